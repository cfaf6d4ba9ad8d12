-- A pack's exercises are named within their pack: an instructor's own `cities` and the example pack's
-- `cities` are two exercises, and neither blocks the other's import (the example pack was refused at every
-- start once anyone had taken one of its slugs). Exercises outside packs keep one namespace among themselves.
-- Deleting a pack would make its exercises standalone (ON DELETE SET NULL) and can then meet a taken slug:
-- no route deletes a pack today.
ALTER TABLE exercises DROP CONSTRAINT exercises_slug_key;
CREATE UNIQUE INDEX exercises_slug_standalone ON exercises (slug) WHERE pack_id IS NULL;
CREATE UNIQUE INDEX exercises_slug_in_pack ON exercises (pack_id, slug) WHERE pack_id IS NOT NULL;
