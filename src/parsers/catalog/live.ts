/** TikTok LIVE: sessions hosted or watched, and the comments written while watching. */
import { defineTable, int, records, text, ts } from './define.js';

export const liveSessions = defineTable({
  table: 'live_sessions',
  schema: 'tiktok',
  part: 'kind',
  columns: {
    room_id: int('RoomId', 'Room'),
    started_at: ts('LiveStartTime', 'StartTime', 'WatchTime'),
    ended_at: ts('LiveEndTime', 'EndTime'),
    duration: text('LiveDuration', 'Duration'),
    title: text('RoomTitle', 'Title'),
    link: text('ReplayUrl', 'ReplayLink', 'Link'),
    total_earning: text('TotalEarning', 'Earning', 'Earnings'),
    total_likes: text('TotalLike', 'TotalLikes'),
    total_views: text('TotalView', 'TotalViews'),
    total_gifters: text('TotalGifter', 'TotalGifters'),
  },
  key: ['room_id', 'started_at'],
  knownExtra: ['CoverUri', 'QualitySetting', 'MutedList', 'Questions', 'Comments'],
  sections: [
    {
      id: 'go_live',
      categories: ['Tiktok Live', 'TikTok Live'],
      names: ['Go Live History'],
      containers: { 'GoLiveList|GoLiveHistoryList': records('live_sessions', 'go_live') },
    },
    {
      id: 'watch_live',
      categories: ['Tiktok Live', 'TikTok Live'],
      names: ['Watch Live History'],
      containers: { 'WatchLiveMap|WatchLiveHistoryMap': { kind: 'watch_live' } },
    },
  ],
});

/** Filled by the `watch_live` section of {@link liveSessions}. */
export const liveComments = defineTable({
  table: 'live_comments',
  schema: 'tiktok',
  columns: {
    room_id: int(),
    commented_at: ts('CommentTime', 'Date', 'Time'),
    content: text('CommentContent', 'Content', 'Comment'),
    /** Given by the session the comment is listed in: with room_id, it names that session (session_id). */
    session_started_at: ts(),
  },
  key: ['room_id', 'commented_at', 'content'],
  knownExtra: ['RawTime'],
  sections: [],
});
