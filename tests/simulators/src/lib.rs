//! Simulators of Personio API v2 and TimeTrack API v2 "ext".
