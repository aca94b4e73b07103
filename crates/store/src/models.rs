//! Rows as the APIs show them. Field order and names follow the seed's JSON objects.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Partner {
    pub partner_sid: String,
    pub name: String,
    pub date_created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Account {
    pub account_sid: String,
    #[serde(skip)]
    pub endpoint_sid: String,
    pub date_created: String,
    pub error_handler: String,
    pub login: String,
    pub method: String,
    pub name: String,
    /// Never serialised: the reference hides it in every response.
    #[serde(skip)]
    pub password: String,
    pub url: Option<String>,
}

/// The fields of an Account that the FlexML API may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUpdate {
    pub name: String,
    pub url: Option<String>,
    pub method: String,
    pub error_handler: String,
}

impl From<&Account> for AccountUpdate {
    fn from(a: &Account) -> Self {
        AccountUpdate {
            name: a.name.clone(),
            url: a.url.clone(),
            method: a.method.clone(),
            error_handler: a.error_handler.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Did {
    pub did_sid: String,
    pub phonenumber: String,
    pub country_code: String,
    pub url: Option<String>,
    pub method: String,
    pub status_callback_url: Option<String>,
    pub status_callback_method: String,
    pub account_sid: String,
}

impl Serialize for Did {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "account_sid": self.account_sid,
            "country_code": self.country_code,
            "did_sid": self.did_sid,
            "in_country_format": crate::format_national(&self.phonenumber),
            "international_format": crate::format_international(&self.phonenumber),
            "method": self.method,
            "phonenumber": self.phonenumber,
            "status_callback_method": self.status_callback_method,
            "status_callback_url": self.status_callback_url,
            "url": self.url,
        })
        .serialize(s)
    }
}

/// The fields of a DID that the FlexML API may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidUpdate {
    pub url: Option<String>,
    pub method: String,
    pub status_callback_url: Option<String>,
    pub status_callback_method: String,
}

impl From<&Did> for DidUpdate {
    fn from(d: &Did) -> Self {
        DidUpdate {
            url: d.url.clone(),
            method: d.method.clone(),
            status_callback_url: d.status_callback_url.clone(),
            status_callback_method: d.status_callback_method.clone(),
        }
    }
}

/// What the first start prints and writes to `credentials.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoCredentials {
    pub partner_sid: String,
    pub token: String,
    pub account_sid: String,
    pub login: String,
    pub password: String,
    pub did_sid: String,
    pub phonenumber: String,
}
