-- Layer holds (issue 18): layers a holder other than a share link keeps pinned and warm, e.g. a published
-- exercise's start state and hidden datasets (`exercise:<id>`). A key's layer is pinned while a hold or a
-- live share link holds it; `warm` is the started instances of it the holder asks env-manager to keep ready.
CREATE TABLE layer_holds (
  holder text NOT NULL CHECK (holder ~ '^[a-z]+:[0-9A-Za-z_-]{1,64}$'),
  key text NOT NULL CHECK (key ~ '^[0-9a-f]{64}$'),
  warm int NOT NULL DEFAULT 1 CHECK (warm BETWEEN 0 AND 8),
  -- Whether snapshot-cache pinned the layer for this hold (false while the layer does not exist).
  pinned boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (holder, key)
);

CREATE INDEX layer_holds_key ON layer_holds (key);
