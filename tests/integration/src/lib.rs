//! Helpers shared by the integration tests: the AWS configuration pointing at `moto_server`, unique
//! table names per test, and the simulators started in-process.
//!
//! AWS tests use the real `aws-sdk-*` clients against moto, configured exactly like production
//! ([`shared::aws::load_aws_config`], which honours `AWS_ENDPOINT_URL`); `scripts/with-moto.sh` starts a
//! fresh moto and sets that variable. nextest runs every test in its own process, in parallel, so each
//! test creates its own uniquely named resources instead of sharing any.
use aws_config::SdkConfig;
use shared::store::dynamodb::DynamoStore;

/// The SDK configuration for moto. Panics (with the fix) when the tests were not started through
/// `scripts/with-moto.sh`, rather than silently talking to real AWS.
pub async fn aws() -> SdkConfig {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.trim().is_empty() => {}
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: AWS integration tests need moto_server; \
             run via `make test` or `scripts/with-moto.sh cargo nextest run ...`"
        ),
    }
    shared::aws::load_aws_config().await
}

/// A name no other test (or earlier run against the same moto) uses: `<prefix>-<12 hex>`.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&aws().await)
}

pub async fn secretsmanager_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&aws().await)
}

/// A new state table (created the way the demo and docs create it) and a store on it.
pub async fn fresh_table() -> (DynamoStore, String) {
    let client = dynamodb_client().await;
    let name = unique("state");
    if let Err(e) = DynamoStore::create_table(&client, &name).await {
        panic!("creating table {name} on moto failed: {e}");
    }
    (DynamoStore::new(client, name.clone()), name)
}
