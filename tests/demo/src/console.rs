//! `demo console-users ENV_FILE`: what a deployment's Cognito block plus an administrator creating the
//! first user would leave behind — a user pool with the console's app client, the `admin` and `viewer`
//! groups, and one admin with a temporary password (the first sign-in asks for a new one). Writes the
//! api function's console environment (`COGNITO_USER_POOL_ID`, `COGNITO_CLIENT_ID`) to ENV_FILE.
use anyhow::{Context, Result};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, ExplicitAuthFlowsType};

/// The demo's HR admin.
pub(crate) const ADMIN_USER: &str = "hr.admin";
pub(crate) const ADMIN_TEMPORARY_PASSWORD: &str = "Demo-Start-2026!";

pub(crate) async fn run(env_file: &str) -> Result<()> {
    let aws = shared::aws::load_aws_config().await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&aws);
    let pool_id = cognito
        .create_user_pool()
        .pool_name("personio-timetrack-sync-demo-console")
        .send()
        .await
        .context("creating the console's user pool")?
        .user_pool()
        .and_then(|p| p.id())
        .context("the user pool has no id")?
        .to_string();
    let client_id = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("console")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .context("creating the console's app client")?
        .user_pool_client()
        .and_then(|c| c.client_id())
        .context("the app client has no id")?
        .to_string();
    for group in ["admin", "viewer"] {
        cognito
            .create_group()
            .user_pool_id(&pool_id)
            .group_name(group)
            .send()
            .await
            .with_context(|| format!("creating group {group}"))?;
    }
    cognito
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username(ADMIN_USER)
        .temporary_password(ADMIN_TEMPORARY_PASSWORD)
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value("hr.admin@acme.example")
                .build()
                .context("e-mail attribute")?,
        )
        .send()
        .await
        .context("creating the demo's admin user")?;
    cognito
        .admin_add_user_to_group()
        .user_pool_id(&pool_id)
        .username(ADMIN_USER)
        .group_name("admin")
        .send()
        .await
        .context("adding the admin to the admin group")?;
    std::fs::write(
        env_file,
        format!("COGNITO_USER_POOL_ID={pool_id}\nCOGNITO_CLIENT_ID={client_id}\n"),
    )
    .with_context(|| format!("writing {env_file}"))?;
    println!("  user pool {pool_id}, app client {client_id}, groups admin and viewer");
    println!("  admin user {ADMIN_USER} with the temporary password {ADMIN_TEMPORARY_PASSWORD}");
    Ok(())
}
