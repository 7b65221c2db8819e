-- Deletions Telegram reported, kept by channel id and message id (issue 15 review R5). A delete can arrive for a
-- post that is not stored yet – a gap check or a catch-up has read it and is about to write it – and used to
-- match no row and be lost: the post was then stored as live and published. Every reported deletion is kept
-- here, and a raw row written later for that post is stored deleted. Keyed by the channel's numeric id (its one
-- identity), so a rename or a link merge cannot separate a deletion from its post. Writers of raw rows take a
-- shared advisory lock per channel id, markDeleted an exclusive one: a deletion and the first write of its post
-- never both miss each other.
create table telegram_message_deletions (
  channel_id text not null,
  message_id bigint not null,
  deleted_at timestamptz not null,
  primary key (channel_id, message_id)
);
