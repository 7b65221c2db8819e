import { Api } from 'telegram';
import type bigInt from 'big-integer';
import { toJson } from './serialize.ts';
import type { ResolvedChannel, SourceMessage } from './types.ts';

/** GramJS messages and entities → this project's shapes. Pure functions, no client needed. */

const fromUnix = (seconds: number): Date => new Date(seconds * 1000);

/** A peer as the decimal id Telegram clients print: users as is, chats negated, channels `-100<id>`. */
export function markedPeerId(peer: Api.TypePeer): string | null {
  if (peer instanceof Api.PeerUser) return peer.userId.toString();
  if (peer instanceof Api.PeerChannel) return `-100${peer.channelId.toString()}`;
  if (peer instanceof Api.PeerChat) return `-${peer.chatId.toString()}`;
  return null;
}

/** Channel posts carry no `fromId`: the channel itself is the sender. */
function senderIdOf(message: Api.Message | Api.MessageService): string | null {
  if (message.fromId) return markedPeerId(message.fromId);
  if (message.peerId instanceof Api.PeerChannel) return markedPeerId(message.peerId);
  return null;
}

/**
 * The message replied to. In a forum group every post of a topic carries the topic's root as replyToMsgId
 * (forumTopic set, no replyToTopId): that is where it was posted, not a reply. A reply inside a topic has
 * replyToTopId = the topic and replyToMsgId = the message it answers.
 */
function replyToMsgIdOf(message: Api.Message | Api.MessageService): number | null {
  const replyTo: unknown = message.replyTo;
  if (!(replyTo instanceof Api.MessageReplyHeader)) return null;
  if (replyTo.forumTopic && replyTo.replyToTopId == null) return null;
  return replyTo.replyToMsgId ?? null;
}

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

export function mapGramjsMessage(message: Api.Message | Api.MessageService): SourceMessage {
  const isService = message instanceof Api.MessageService;
  const entities = isService ? undefined : message.entities;
  const replies: unknown = message.replies;
  return {
    id: message.id,
    date: fromUnix(message.date),
    editDate: typeof message.editDate === 'number' ? fromUnix(message.editDate) : null,
    text: isService ? '' : (message.message ?? ''),
    senderId: senderIdOf(message),
    fwdFrom: message.fwdFrom ? toJson(message.fwdFrom) : null,
    replyToMsgId: replyToMsgIdOf(message),
    entities: entities && entities.length > 0 ? (toJson(entities) as unknown[]) : null,
    media: message.media ? toJson(message.media) : null,
    views: numberOrNull(message.views),
    forwards: numberOrNull(message.forwards),
    replyCount: replies instanceof Api.MessageReplies ? replies.replies : null,
    isService,
  };
}

/** What channelLinkForEntity reads; Api.Channel and Api.ChannelForbidden both fit. */
export interface ChannelEntityLike {
  id: bigInt.BigInteger;
  title?: string;
  username?: string;
  usernames?: Api.TypeUsername[];
}

/** The public username: `username`, or (for channels with several, where `username` is empty) the first active one. */
function usernameOf(entity: ChannelEntityLike): string | null {
  if (entity.username) return entity.username;
  const active = entity.usernames?.find((u) => u.active && u.username);
  return active?.username ?? null;
}

/** A channel entity → its canonical link (see normalizeChannelRef), bare id and title. */
export function channelLinkForEntity(entity: ChannelEntityLike): ResolvedChannel {
  const channelId = entity.id.toString();
  const username = usernameOf(entity);
  return {
    channelLink: username ? `t.me/${username.toLowerCase()}` : `t.me/c/${channelId}`,
    channelId,
    title: entity.title ?? null,
  };
}
