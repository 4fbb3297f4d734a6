//! Loading the AWS SDK configuration, the one way every function and test does it.
//!
//! `aws_config::defaults` reads the standard environment (region, credentials chain, and
//! `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`; aws-config 1.13 resolves the endpoint in
//! `ConfigLoader::load`, see `default_provider::endpoint_url`). That is what lets the same binaries run
//! against a local emulator (moto) without a test-only code path.
use aws_config::{BehaviorVersion, SdkConfig};

/// The SDK configuration from the environment, with the latest behaviour defaults.
pub async fn load_aws_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}
