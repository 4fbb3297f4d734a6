//! The one translation from a client error to what it means for the engine, shared by the workflows'
//! side ports (so the three workflows cannot drift apart in how they treat a 409 or a 401).
use crate::connectors::personio::PersonioError;
use crate::connectors::timetrack::TimeTrackError;
use crate::connectors::ErrorClass;
use crate::engine::{PortError, PortErrorClass};

/// The engine's reaction to a client error class.
pub(crate) fn port_class(class: ErrorClass) -> PortErrorClass {
    match class {
        ErrorClass::NotFound => PortErrorClass::NotFound,
        ErrorClass::Auth => PortErrorClass::Fatal,
        ErrorClass::Validation => PortErrorClass::Invalid,
        ErrorClass::Conflict => PortErrorClass::Conflict,
        ErrorClass::RateLimited | ErrorClass::Transient => PortErrorClass::Transient,
        // An answer we cannot read for one record is that record's problem; retried next run.
        ErrorClass::Decode => PortErrorClass::Invalid,
    }
}

/// A Personio client error as a port error; `context` says what was being done ("create attendance").
pub(crate) fn from_personio(context: &str, e: &PersonioError) -> PortError {
    PortError::new(port_class(e.class()), format!("Personio {context}: {e}"))
}

/// A TimeTrack client error as a port error.
pub(crate) fn from_timetrack(context: &str, e: &TimeTrackError) -> PortError {
    PortError::new(port_class(e.class()), format!("TimeTrack {context}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_failures_stop_the_run_and_rate_limits_are_transient() {
        assert_eq!(port_class(ErrorClass::Auth), PortErrorClass::Fatal);
        assert_eq!(
            port_class(ErrorClass::RateLimited),
            PortErrorClass::Transient
        );
        assert_eq!(port_class(ErrorClass::NotFound), PortErrorClass::NotFound);
        assert_eq!(port_class(ErrorClass::Conflict), PortErrorClass::Conflict);
        assert_eq!(port_class(ErrorClass::Validation), PortErrorClass::Invalid);
    }
}
