//! HTTP clients of the two external APIs. Wire shapes of Personio v2 and TimeTrack live here and only here.
