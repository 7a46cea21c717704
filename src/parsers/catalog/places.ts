/** Places: reviews of locations (public posts) and the last location TikTok recorded (private). */
import { DATE, defineTable, records, text, ts } from './define.js';

export const locationReviews = defineTable({
  table: 'location_reviews',
  schema: 'tiktok',
  columns: {
    reviewed_at: ts(...DATE, 'ReviewTime', 'CreateTime'),
    place: text('PoiName', 'POI', 'Place', 'Location', 'LocationName', 'Name'),
    rating: text('Rating', 'Score', 'Stars'),
    review: text('Review', 'Content', 'Comment', 'Text', 'ReviewContent'),
    link: text('Link', 'Url', 'PoiLink'),
  },
  key: ['reviewed_at', 'place', 'review'],
  sections: [
    {
      id: 'location_reviews',
      categories: ['Activity', 'Location Review'],
      names: ['Location Reviews', 'POI Review', 'POI Reviews', 'Location Review'],
      containers: { 'ReviewsList|ReviewList|LocationReviewsList': records('location_reviews', '', true) },
      anyList: records('location_reviews', '', true),
    },
  ],
});

export const locations = defineTable({
  table: 'locations',
  schema: 'tiktok_private',
  columns: {
    recorded_at: ts(...DATE),
    gps: text('GpsData', 'GPS', 'Gps'),
    last_region: text('LastRegion', 'Region'),
  },
  key: ['recorded_at', 'gps', 'last_region'],
  sections: [
    {
      id: 'location_data',
      categories: ['Activity', 'Your Activity'],
      names: ['Most Recent Location Data'],
      containers: { 'LocationData|Location Data': { kind: 'record', table: 'locations', part: '' } },
      anyList: records('locations', '', true),
      txt: records('locations'),
    },
  ],
});
