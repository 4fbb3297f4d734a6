//! Sign-in against the Cognito user pool: `InitiateAuth` with `USER_PASSWORD_AUTH`, the first-login
//! `NEW_PASSWORD_REQUIRED` challenge, and `REFRESH_TOKEN_AUTH` when the ID token has expired
//! (see docs/adr/0016-console-sign-in.md for why not the hosted UI).
//!
//! Passwords and tokens pass through here and are never logged or put into an error message.
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use aws_sdk_cognitoidentityprovider::Client;
use thiserror::Error;

/// The tokens of a signed-in user.
#[derive(Clone)]
pub struct Tokens {
    pub id_token: String,
    /// Absent on a refresh (Cognito keeps the old refresh token valid).
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(<redacted>)")
    }
}

/// What a password sign-in leads to.
#[derive(Debug, Clone)]
pub enum SignInStep {
    Done(Tokens),
    /// First sign-in with a temporary password: a new one must be chosen. `session` is Cognito's
    /// opaque challenge session.
    NewPasswordRequired {
        session: String,
    },
}

/// Why a sign-in failed; the messages are for the user and contain no secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignInError {
    #[error("the user name or password is wrong")]
    Refused,
    #[error("the new password is not accepted: {0}")]
    PasswordRejected(String),
    #[error("the sign-in has expired; start again")]
    ChallengeExpired,
    #[error("the session can no longer be renewed; sign in again")]
    RefreshRefused,
    #[error("Cognito asked for a step this console does not support ({0})")]
    UnsupportedChallenge(String),
    #[error("the sign-in service is not available: {0}")]
    Unavailable(String),
}

/// Cognito sign-in for the console's app client.
#[derive(Clone, Debug)]
pub struct CognitoSignIn {
    client: Client,
    client_id: String,
}

impl CognitoSignIn {
    pub fn new(client: Client, client_id: impl Into<String>) -> Self {
        Self {
            client,
            client_id: client_id.into(),
        }
    }

    /// `USER_PASSWORD_AUTH`.
    pub async fn password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<SignInStep, SignInError> {
        let answer = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(|e| {
                let e = e.into_service_error();
                if e.is_not_authorized_exception() || e.is_user_not_found_exception() {
                    SignInError::Refused
                } else {
                    SignInError::Unavailable(e.to_string())
                }
            })?;
        if let Some(result) = answer.authentication_result() {
            return tokens(result.id_token(), result.refresh_token());
        }
        match (answer.challenge_name(), answer.session()) {
            (Some(ChallengeNameType::NewPasswordRequired), Some(session)) => {
                Ok(SignInStep::NewPasswordRequired {
                    session: session.to_string(),
                })
            }
            (Some(other), _) => Err(SignInError::UnsupportedChallenge(other.as_str().into())),
            (None, _) => Err(SignInError::Unavailable(
                "Cognito answered neither tokens nor a challenge".into(),
            )),
        }
    }

    /// Answers `NEW_PASSWORD_REQUIRED`.
    pub async fn new_password(
        &self,
        session: &str,
        username: &str,
        new_password: &str,
    ) -> Result<SignInStep, SignInError> {
        let answer = self
            .client
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(session)
            .challenge_responses("USERNAME", username)
            .challenge_responses("NEW_PASSWORD", new_password)
            .send()
            .await
            .map_err(|e| {
                let e = e.into_service_error();
                if e.is_invalid_password_exception() {
                    SignInError::PasswordRejected(
                        e.meta().message().unwrap_or("too weak").to_string(),
                    )
                } else if e.is_code_mismatch_exception()
                    || e.is_expired_code_exception()
                    || e.is_not_authorized_exception()
                {
                    SignInError::ChallengeExpired
                } else {
                    SignInError::Unavailable(e.to_string())
                }
            })?;
        match answer.authentication_result() {
            Some(result) => tokens(result.id_token(), result.refresh_token()),
            None => Err(SignInError::UnsupportedChallenge(
                answer
                    .challenge_name()
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_else(|| "none".into()),
            )),
        }
    }

    /// `REFRESH_TOKEN_AUTH`: a new ID token for a session whose token expired.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, SignInError> {
        let answer = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .send()
            .await
            .map_err(|e| {
                let e = e.into_service_error();
                if e.is_not_authorized_exception() {
                    SignInError::RefreshRefused
                } else {
                    SignInError::Unavailable(e.to_string())
                }
            })?;
        match answer.authentication_result() {
            Some(result) => match tokens(result.id_token(), result.refresh_token())? {
                SignInStep::Done(t) => Ok(t),
                SignInStep::NewPasswordRequired { .. } => Err(SignInError::RefreshRefused),
            },
            None => Err(SignInError::RefreshRefused),
        }
    }

    /// Revokes the refresh token at sign-out (best effort: the cookies are cleared either way).
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), SignInError> {
        self.client
            .revoke_token()
            .client_id(&self.client_id)
            .token(refresh_token)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| SignInError::Unavailable(e.into_service_error().to_string()))
    }
}

fn tokens(id_token: Option<&str>, refresh_token: Option<&str>) -> Result<SignInStep, SignInError> {
    let id_token = id_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| SignInError::Unavailable("Cognito answered without an ID token".into()))?;
    Ok(SignInStep::Done(Tokens {
        id_token: id_token.to_string(),
        refresh_token: refresh_token.map(str::to_string),
    }))
}
