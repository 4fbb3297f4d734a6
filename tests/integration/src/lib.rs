//! Helpers shared by the integration tests: the AWS configuration pointing at `moto_server`, unique
//! table names per test, and the simulators started in-process.
