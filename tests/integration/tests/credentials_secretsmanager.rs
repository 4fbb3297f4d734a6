//! Credentials in Secrets Manager (moto), with the real aws-sdk-secretsmanager client.
//! Run: `scripts/with-moto.sh cargo nextest run -p integration-tests --test credentials_secretsmanager`.
use std::time::Duration;

use integration_tests::{secretsmanager_client, unique};
use secrecy::ExposeSecret;
use shared::credentials::{
    secret_name, Credentials, CredentialsError, CredentialsSource, SecretsManagerCredentials,
};
use shared::domain::IntegrationId;

const SECRET: &str = "pc-s3cr3t-9f8e7d";

fn credentials(api_key: &str) -> Credentials {
    Credentials::from_secret_json(
        &serde_json::json!({
            "personio_client_id": "papi-client",
            "personio_client_secret": SECRET,
            "timetrack_account": "acme",
            "timetrack_api_key": api_key,
            "timetrack_api_secret": "tt-s3cr3t",
        })
        .to_string(),
    )
    .unwrap()
}

fn integration() -> IntegrationId {
    IntegrationId::new(unique("acme")).unwrap()
}

#[tokio::test]
async fn store_creates_then_updates_and_a_fresh_reader_loads_it() {
    let client = secretsmanager_client().await;
    let prefix = unique("pts");
    let id = integration();
    let writer = SecretsManagerCredentials::new(client.clone(), prefix.clone(), Duration::ZERO);
    assert!(matches!(
        writer.credentials(&id).await,
        Err(CredentialsError::NotFound { integration_id }) if integration_id == id
    ));

    writer
        .store(&id, &credentials("key-1"))
        .await
        .expect("create");
    writer
        .store(&id, &credentials("key-2"))
        .await
        .expect("update");

    // A separate reader (cold cache) sees the latest value under the documented name.
    let reader = SecretsManagerCredentials::new(client.clone(), prefix.clone(), Duration::ZERO);
    let loaded = reader.credentials(&id).await.unwrap();
    assert_eq!(loaded.timetrack_api_key.expose_secret(), "key-2");
    assert_eq!(loaded.personio_client_secret.expose_secret(), SECRET);
    let raw = client
        .get_secret_value()
        .secret_id(secret_name(&prefix, &id))
        .send()
        .await
        .unwrap();
    assert!(raw.secret_string().unwrap().contains("key-2"));
}

#[tokio::test]
async fn cache_serves_within_ttl_and_expires_after_it() {
    let client = secretsmanager_client().await;
    let prefix = unique("pts");
    let id = integration();
    SecretsManagerCredentials::new(client.clone(), prefix.clone(), Duration::ZERO)
        .store(&id, &credentials("key-1"))
        .await
        .unwrap();

    let long =
        SecretsManagerCredentials::new(client.clone(), prefix.clone(), Duration::from_secs(3600));
    let short =
        SecretsManagerCredentials::new(client.clone(), prefix.clone(), Duration::from_millis(1));
    long.credentials(&id)
        .await
        .expect("first load fills the cache");
    short
        .credentials(&id)
        .await
        .expect("first load fills the cache");

    // Delete the secret behind the caches' backs.
    client
        .delete_secret()
        .secret_id(secret_name(&prefix, &id))
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();

    let cached = long
        .credentials(&id)
        .await
        .expect("within its TTL the cache answers without Secrets Manager");
    assert_eq!(cached.timetrack_api_key.expose_secret(), "key-1");

    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        matches!(
            short.credentials(&id).await,
            Err(CredentialsError::NotFound { .. })
        ),
        "after the TTL the secret is fetched again and is gone"
    );
}

#[tokio::test]
async fn invalid_secret_is_reported_by_field_without_echoing_values() {
    let client = secretsmanager_client().await;
    let prefix = unique("pts");
    let id = integration();
    let broken = format!(r#"{{"personio_client_id":"papi","personio_client_secret":"{SECRET}" "#);
    client
        .create_secret()
        .name(secret_name(&prefix, &id))
        .secret_string(&broken)
        .send()
        .await
        .unwrap();
    let source = SecretsManagerCredentials::new(client.clone(), prefix.clone(), Duration::ZERO);
    let err = source.credentials(&id).await.unwrap_err();
    assert!(matches!(err, CredentialsError::Invalid { .. }), "{err:?}");
    assert!(!format!("{err:?} {err}").contains(SECRET), "{err:?}");

    let mistyped = serde_json::json!({
        "personio_client_id": "papi",
        "personio_client_secret": [SECRET],
        "timetrack_account": "acme",
        "timetrack_api_key": "k",
    })
    .to_string();
    client
        .put_secret_value()
        .secret_id(secret_name(&prefix, &id))
        .secret_string(mistyped)
        .send()
        .await
        .unwrap();
    let err = source.credentials(&id).await.unwrap_err();
    let text = format!("{err:?} {err}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        text.contains("field personio_client_secret must be a string"),
        "{text}"
    );
    assert!(
        text.contains("missing field timetrack_api_secret"),
        "{text}"
    );
}
