-- Event hook hints a follower forwards to the leader: Okta delivers each
-- hook to any replica, and only the leader syncs. The leader drains the
-- rows (on a notification, and when its term starts: a row outlives a
-- leader change). Rows are bounded by the writers (see Store.ForwardHint).
CREATE TABLE hints (
    id         bigserial   PRIMARY KEY,
    replica    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    users      text[]      NOT NULL DEFAULT '{}',
    groups     text[]      NOT NULL DEFAULT '{}',
    published  timestamptz[] NOT NULL DEFAULT '{}',
    truncated  boolean     NOT NULL DEFAULT false
);
