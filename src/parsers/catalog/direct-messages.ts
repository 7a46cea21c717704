/** Conversations and their messages: direct chats, group chats and Tako (TikTok's assistant). */
import { videoIdFromMessage } from '../values.js';
import { DATE, defineTable, derived, text, ts } from './define.js';

export const dmConversations = defineTable({
  table: 'dm_conversations',
  schema: 'tiktok',
  part: 'kind',
  columns: { conversation: text('Chat Title', 'Title', 'Name') },
  key: ['conversation'],
  sections: [
    {
      id: 'direct_messages',
      categories: ['Direct Messages', 'Direct Message'],
      names: ['Chat History', 'Direct Messages'],
      containers: { ChatHistory: { kind: 'chats', part: 'direct' } },
    },
    {
      id: 'group_chats',
      categories: ['Direct Message'],
      names: ['Group Chat', 'Group Chats', 'Group Chat History'],
      containers: {
        'GroupChat|GroupChats|GroupChatHistory': { kind: 'chats', part: 'group', lenient: true },
      },
    },
    {
      id: 'tako',
      categories: ['Direct Message'],
      names: ['Tako Chat History', 'Tako Chat'],
      containers: { 'TakoChatHistoryList|TakoChatHistory|TakoChatList': { kind: 'tako' } },
    },
  ],
});

/** Filled by the sections of {@link dmConversations}. */
export const dmMessages = defineTable({
  table: 'dm_messages',
  schema: 'tiktok',
  part: 'kind',
  columns: {
    conversation: text(),
    sent_at: ts(...DATE, 'SentTime', 'CreateTime'),
    sender: text('From', 'Sender', 'UserName'),
    content: text('Content', 'Message', 'Text'),
    video_id: derived('bigint', (row) => videoIdFromMessage(row.content ?? null)),
  },
  key: ['conversation', 'sent_at', 'sender', 'content'],
  sections: [],
});
