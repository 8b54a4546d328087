"""Test fakes with knobs (after livekit-agents): for unit tests of one module only."""
