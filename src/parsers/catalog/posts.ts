import { videoIdFromLink } from '../values.js';
import { type ColumnDef, DATE, defineTable, int, records, text, ts, volatile } from './define.js';

/** The id field wins over the id inside the (signed, changing) link. */
const videoId: ColumnDef = {
  ...int('VideoId', 'ItemId', 'PostId'),
  derive: (row) => row.video_id ?? videoIdFromLink(row.link ?? null),
};

export const posts = defineTable({
  table: 'posts',
  schema: 'tiktok',
  part: 'status',
  columns: {
    posted_at: ts(...DATE, 'CreateTime', 'PostTime'),
    link: volatile(text('Link', 'VideoLink', 'MediaLink')),
    video_id: videoId,
    title: text('Title', 'Caption', 'Description'),
    likes: int('Likes', 'Like(s)', 'LikeCount'),
    who_can_view: text('WhoCanView'),
    allow_comments: text('AllowComments', 'AllowComment'),
    allow_stitches: text('AllowStitches', 'AllowStitch'),
    allow_duets: text('AllowDuets', 'AllowDuet'),
    allow_stickers: text('AllowStickers', 'AllowSticker'),
    allow_sharing_to_story: text('AllowSharingToStory'),
    content_disclosure: text('ContentDisclosure'),
    ai_generated_content: text('AIGeneratedContent', 'AIGenerated'),
    sound: text('Sound'),
    location: text('Location'),
    add_yours_text: text('AddYoursText'),
    alternate_text: text('AlternateText'),
    cover_image: volatile(text('CoverImage')),
  },
  // The time identifies a post; one whose time TikTok did not know falls back to its id or title.
  key: [['posted_at', 'video_id', 'title']],
  sections: [
    {
      id: 'posts',
      categories: ['Video', 'Post'],
      names: ['Videos', 'Posts', 'Post'],
      containers: { 'VideoList|PostList|PostsList': records('posts', 'posted') },
    },
    {
      id: 'recently_deleted',
      categories: ['Video', 'Post'],
      names: ['Recently Deleted Posts', 'Recently Deleted Videos', 'Recently Deleted'],
      containers: { 'PostList|VideoList|PostsList': records('posts', 'recently_deleted') },
    },
  ],
});
