-- LLM reuse across processes and restarts: agencies re-post the same assignment many times; an identical
-- (normalised text, prompt, examples, model) request is answered from here instead of calling the LLM again.
create table llm_reuse (
  key text primary key,
  value jsonb not null,
  hits integer not null default 0,
  created_at timestamptz not null default now(),
  last_hit_at timestamptz
);
