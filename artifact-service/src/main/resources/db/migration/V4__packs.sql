-- Small blobs saved through write-behind share one S3 object per batch (a pack, issue 22): their
-- object_key is 'packs/<id>#<offset>-<length>'. A pack is deleted once no blob row names it; this
-- index answers "does any row still name packs/<id>" with a range scan (byte order: '#' < '$').
CREATE INDEX blobs_object_key ON blobs (object_key COLLATE "C");
