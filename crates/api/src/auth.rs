//! Authentication: HTTP Basic for the FlexML API, Bearer tokens for the Core API.

use crate::{ApiError, ApiState};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use base64::Engine;
use store::{Account, Partner};

/// The FlexML account whose endpoint login/password came with the request.
pub struct FlexmlAccount(pub Account);

impl FromRequestParts<ApiState> for FlexmlAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthenticated)?;
        let encoded = header
            .strip_prefix("Basic ")
            .ok_or(ApiError::Unauthenticated)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| ApiError::Unauthenticated)?;
        let decoded = String::from_utf8(decoded).map_err(|_| ApiError::Unauthenticated)?;
        let (login, password) = decoded.split_once(':').ok_or(ApiError::Unauthenticated)?;
        let account = state
            .store
            .account_by_login(login)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if !constant_time_eq(account.password.as_bytes(), password.as_bytes()) {
            return Err(ApiError::Unauthenticated);
        }
        Ok(FlexmlAccount(account))
    }
}

/// The partner whose Bearer token came with the request.
pub struct CorePartner(pub Partner);

impl FromRequestParts<ApiState> for CorePartner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthenticated)?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or(ApiError::Unauthenticated)?;
        let partner = state
            .store
            .partner_by_token(token.trim())
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(CorePartner(partner))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn whoami(State(_): State<ApiState>, CorePartner(partner): CorePartner) -> Json<Partner> {
    Json(partner)
}
