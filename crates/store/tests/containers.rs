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

async fn a_file_s_bytes_are_replaced_within_the_container_quota(backend: Backend) {
    let store = testing::open(backend, "replace_file_data").await.unwrap();
    let (p, _) = store.create_partner("p", None).await.unwrap();
    let (q, _) = store.create_partner("q", None).await.unwrap();
    let fields = ContainerFields {
        quota_bytes: 100,
        ..ContainerFields::default()
    };
    let container = store
        .container_named(&p.partner_sid, "recordings", &fields)
        .await
        .unwrap();
    let file_fields = store::StoredFileFields {
        name: "message.wav".into(),
        mime_type: String::new(),
        publish: "file_sid".into(),
    };
    let file = store
        .save_file(
            &p.partner_sid,
            &container.container_sid,
            &file_fields,
            vec![1; 40],
        )
        .await
        .unwrap();
    let grown = store
        .replace_file_data(&p.partner_sid, &file.file_sid, vec![2; 90])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((grown.file_bytes, grown.name.as_str()), (90, "message.wav"));
    let (_, bytes) = store
        .file_data(&p.partner_sid, &file.file_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bytes, vec![2; 90]);
    let totals = store
        .container(&p.partner_sid, &container.container_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(totals.total_bytes, 90, "the quota counts the new size");
    // Over the quota: refused, and nothing changes.
    let refused = store
        .replace_file_data(&p.partner_sid, &file.file_sid, vec![3; 101])
        .await;
    assert!(
        matches!(refused, Err(store::StorageError::QuotaExceeded { .. })),
        "{refused:?}"
    );
    let (_, bytes) = store
        .file_data(&p.partner_sid, &file.file_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bytes, vec![2; 90]);
    // Another partner's file is not there for them.
    let other = store
        .replace_file_data(&q.partner_sid, &file.file_sid, vec![4; 10])
        .await
        .unwrap();
    assert!(other.is_none());
}

store::backend_tests!(a_file_s_bytes_are_replaced_within_the_container_quota);
