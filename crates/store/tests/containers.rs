//! The container recordings fall back to: found by name, created once per partner.

use store::testing::{self, Backend};
use store::ContainerFields;

async fn the_named_container_is_found_or_created_once_per_partner(backend: Backend) {
    let store = testing::open(backend, "container_named").await.unwrap();
    let (p, _) = store.create_partner("p", None).await.unwrap();
    let (q, _) = store.create_partner("q", None).await.unwrap();
    let fields = ContainerFields {
        quota_files: 10_000,
        ..ContainerFields::default()
    };
    let first = store
        .container_named(&p.partner_sid, "recordings", &fields)
        .await
        .unwrap();
    assert_eq!(first.name, "recordings");
    assert_eq!(first.quota_files, 10_000);
    let again = store
        .container_named(&p.partner_sid, "recordings", &fields)
        .await
        .unwrap();
    assert_eq!(again.container_sid, first.container_sid);
    let others = store
        .container_named(&q.partner_sid, "recordings", &fields)
        .await
        .unwrap();
    assert_ne!(others.container_sid, first.container_sid);
    assert_eq!(others.partner_sid, q.partner_sid);
}

store::backend_tests!(the_named_container_is_found_or_created_once_per_partner);
