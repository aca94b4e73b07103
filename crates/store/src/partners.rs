//! Partners beyond the one made on first start (tests, and provisioning from the CLI later).

use crate::{new_sid, now_timestamp, Partner, Store, StoreError};

impl Store {
    /// Creates a partner with a Bearer token (`token`, or a new random one); returns both.
    pub async fn create_partner(
        &self,
        name: &str,
        token: Option<&str>,
    ) -> Result<(Partner, String), StoreError> {
        let partner = Partner {
            partner_sid: new_sid(),
            name: name.to_string(),
            date_created: now_timestamp(),
        };
        let token = token.map(str::to_string).unwrap_or_else(new_sid);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            &self.sql("INSERT INTO partners (partner_sid, name, date_created) VALUES (?, ?, ?)"),
        )
        .bind(&partner.partner_sid)
        .bind(&partner.name)
        .bind(&partner.date_created)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            &self.sql("INSERT INTO tokens (token, partner_sid, date_created) VALUES (?, ?, ?)"),
        )
        .bind(&token)
        .bind(&partner.partner_sid)
        .bind(&partner.date_created)
        .execute(&mut *tx)
        .await
        .map_err(crate::rows::conflict_on(
            "token",
            "the token belongs to another partner".into(),
        ))?;
        tx.commit().await?;
        Ok((partner, token))
    }
}
