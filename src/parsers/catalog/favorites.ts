import {
  anyIdFromLink,
  effectIdFromLink,
  hashtagIdFromLink,
  soundIdFromLink,
  videoIdFromLink,
} from '../values.js';
import { DATE, defineTable, derived, records, type SectionSpec, text, ts } from './define.js';

const fav = (part: string, lenient = false) => records('favorites', part, lenient);

/** The id a favorite's link carries depends on its kind. */
function itemId(link: string | null, kind: string): string | null {
  switch (kind) {
    case 'video':
      return videoIdFromLink(link);
    case 'sound':
      return soundIdFromLink(link);
    case 'effect':
      return effectIdFromLink(link);
    case 'hashtag':
      return hashtagIdFromLink(link);
    default:
      return anyIdFromLink(link);
  }
}

const PARENTS = ['Activity', 'Your Activity', 'Likes and Favorites'];

/** A favorites section of a kind whose container names are verified (`strict`) or not. */
function section(
  id: string,
  part: string,
  names: string[],
  containers: string,
  strict: boolean,
  categories = PARENTS,
): SectionSpec {
  return {
    id,
    categories,
    names,
    containers: { [containers]: fav(part, !strict) },
    anyList: fav(part, true),
  };
}

const NEWER = ['Likes and Favorites'];

export const favorites = defineTable({
  table: 'favorites',
  schema: 'tiktok',
  part: 'kind',
  columns: {
    favorited_at: ts(...DATE, 'FavoriteTime', 'CreateTime'),
    item_id: derived('bigint', (row, part) => itemId(row.link ?? null, part)),
    link: text(
      'Link',
      'Url',
      'VideoLink',
      'SoundLink',
      'EffectLink',
      'HashtagLink',
      'PlaylistLink',
      'CollectionLink',
      'LocationLink',
      'CommentLink',
      'DramaLink',
    ),
    name: text(
      'Name',
      'Title',
      'FavoriteCollection',
      'CollectionName',
      'HashtagName',
      'SoundName',
      'EffectName',
      'PlaylistName',
      'LocationName',
      'DramaName',
      'Comment',
      'Content',
    ),
  },
  key: [['item_id', 'link', 'name']],
  sections: [
    section(
      'favorite_videos',
      'video',
      ['Favorite Videos', 'Favorite Video'],
      'FavoriteVideoList|FavoriteVideosList',
      true,
    ),
    section(
      'favorite_sounds',
      'sound',
      ['Favorite Sounds', 'Favorite Sound'],
      'FavoriteSoundList|FavoriteSoundsList',
      true,
    ),
    section(
      'favorite_hashtags',
      'hashtag',
      ['Favorite Hashtags', 'Favorite Hashtag'],
      'FavoriteHashtagList|FavoriteHashtagsList',
      true,
    ),
    section(
      'favorite_effects',
      'effect',
      ['Favorite Effects', 'Favorite Effect'],
      'FavoriteEffectsList|FavoriteEffectList',
      true,
    ),
    section(
      'favorite_collections',
      'collection',
      ['Favorite Collection', 'Favorite Collections'],
      'FavoriteCollectionList|FavoriteCollectionsList|CollectionList',
      false,
      ['Your Activity', 'Likes and Favorites'],
    ),
    // 2026 writes `Collection` beside `Favorite Collection`, with other records.
    section(
      'collections',
      'collection',
      ['Collection', 'Collections'],
      'CollectionList|FavoriteCollectionList',
      false,
      NEWER,
    ),
    section(
      'favorite_comments',
      'comment',
      ['Favorite Comment', 'Favorite Comments'],
      'FavoriteCommentList|FavoriteCommentsList',
      false,
      NEWER,
    ),
    section(
      'favorite_locations',
      'location',
      ['Favorite Location', 'Favorite Locations', 'Favorite Places'],
      'FavoriteLocationList|FavoriteLocationsList',
      false,
      NEWER,
    ),
    section(
      'favorite_playlists',
      'playlist',
      ['Favorite Playlists', 'Favorite Playlist'],
      'FavoritePlaylistList|FavoritePlaylistsList',
      false,
      NEWER,
    ),
    section(
      'favorite_movies_tv',
      'movie_tv',
      ['Favorite Movies and TV', 'Favorite Movies & TV', 'Favorite Movies and TV Shows', 'Favorite Movies'],
      'FavoriteMoviesAndTVList|FavoriteMovieList|FavoriteMoviesList',
      false,
      NEWER,
    ),
    section(
      'favorite_drama',
      'drama',
      ['Favorite Drama', 'Favorite Dramas', 'Favorite Mini Drama', 'Favorite Mini Dramas'],
      'FavoriteDramaList|FavoriteDramasList',
      false,
      NEWER,
    ),
  ],
});
