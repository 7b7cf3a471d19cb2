-- A client following a build by id after its live stream left memory is served the recording.
CREATE INDEX recordings_build_id ON recordings (build_id);
