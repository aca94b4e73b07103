//! Call detail records on SQLite and PostgreSQL: written for an account and seen by its
//! partner only, paged in date_stop order (ties by dr_sid) with after/before both ways,
//! filtered, and shown with their call's callbacks.

use serde_json::json;
use store::query::{Filter, Order};
use store::testing::{self, Backend, TestStore};
use store::{
    DrAnchor, EndpointFields, EndpointType, ListParams, NewCallDr, NewCallback, StoreError, Utc,
};

struct Fixture {
    store: TestStore,
    partner: String,
    account: String,
    other_account: String,
}

async fn fixture(backend: Backend, name: &str) -> Fixture {
    let store = testing::open(backend, name).await.unwrap();
    let demo = store
        .provision_demo(None, "15550000001", "http://127.0.0.1:8080/demo/hello")
        .await
        .unwrap();
    let (other, _) = store.create_partner("other", None).await.unwrap();
    let endpoint = store
        .create_endpoint(
            &other.partner_sid,
            EndpointType::Flexml,
            &EndpointFields {
                name: "other".into(),
                ..EndpointFields::default()
            },
        )
        .await
        .unwrap();
    let other_account = endpoint.properties["account_sid"]
        .as_str()
        .unwrap()
        .to_string();
    Fixture {
        store,
        partner: demo.partner_sid,
        account: demo.account_sid,
        other_account,
    }
}

fn record(account: &str, call: &str, stop_second: u32, status: &str) -> NewCallDr {
    NewCallDr {
        call_sid: call.into(),
        account_sid: account.into(),
        direction: "inbound".into(),
        number_src: "15162065338".into(),
        number_dst: "15550000001".into(),
        original_from: Some("+15162065338".into()),
        date_start: "2024-01-01T00:00:00.000Z".into(),
        date_talk: (status == "completed").then(|| "2024-01-01T00:00:01.000Z".into()),
        date_stop: format!("2024-01-01T00:00:{stop_second:02}.000Z"),
        duration: i64::from(stop_second),
        status: status.into(),
        sip_status: Some(200),
        hangup_by: Some("caller".into()),
        timeline: json!([{"time": "2024-01-01T00:00:00.000Z", "event": "document x"}]),
        ..NewCallDr::default()
    }
}

fn page(limit: i64, order: Option<&str>, filter: Option<&str>) -> ListParams {
    ListParams {
        filter: filter.map(|f| Filter::parse(f).unwrap()),
        order: order.map(|o| Order::parse(o).unwrap()),
        limit,
        offset: 0,
    }
}

/// Five records, two of them sharing a date_stop; their SIDs in list order.
async fn five(f: &Fixture) -> Vec<String> {
    let mut out = Vec::new();
    for (i, second) in [(1, 10), (2, 20), (3, 20), (4, 30), (5, 40)] {
        let status = if i == 4 { "busy" } else { "completed" };
        let dr = f
            .store
            .insert_call_dr(&record(&f.account, &format!("call-{i}"), second, status))
            .await
            .unwrap()
            .unwrap();
        out.push((dr.date_stop, dr.dr_sid));
    }
    out.sort();
    out.into_iter().map(|(_, sid)| sid).collect()
}

fn sids(items: &[store::CallDr]) -> Vec<String> {
    items.iter().map(|d| d.dr_sid.clone()).collect()
}

async fn records_are_written_for_the_accounts_partner_only(backend: Backend) {
    let f = fixture(backend, "dr_scope").await;
    let dr = f
        .store
        .insert_call_dr(&record(&f.account, "c1", 5, "completed"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dr.partner_sid, f.partner);
    assert_eq!(dr.timeline[0]["event"], "document x");
    assert_eq!(dr.date_insert.len(), 24);
    assert!(f
        .store
        .call_dr("someone-else", &dr.dr_sid)
        .await
        .unwrap()
        .is_none());
    let theirs = f
        .store
        .insert_call_dr(&record(&f.other_account, "c2", 6, "completed"))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(theirs.partner_sid, f.partner);
    let mine = f
        .store
        .call_drs(&f.partner, &page(10, None, None), &DrAnchor::Start)
        .await
        .unwrap();
    assert_eq!(sids(&mine.items), std::slice::from_ref(&dr.dr_sid));
    assert!(f
        .store
        .insert_call_dr(&record("gone", "c3", 7, "failed"))
        .await
        .unwrap()
        .is_none());

    // The call's callbacks show on its record.
    f.store
        .enqueue_callback(
            &NewCallback {
                call_sid: Some("c1".into()),
                kind: "status".into(),
                url: "http://app/status".into(),
                method: "POST".into(),
                params: vec![],
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let shown = f
        .store
        .call_dr(&f.partner, &dr.dr_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown.callbacks.len(), 1);
    assert_eq!(shown.callbacks[0]["state"], "pending");
    assert_eq!(shown.callbacks[0]["url"], "http://app/status");
}

async fn after_and_before_page_both_ways_in_date_stop_order(backend: Backend) {
    let f = fixture(backend, "dr_paging").await;
    let all = five(&f).await;
    let list = |anchor: DrAnchor, limit: i64, order: Option<&'static str>| {
        let store = f.store.store();
        let partner = f.partner.clone();
        async move {
            store
                .call_drs(&partner, &page(limit, order, None), &anchor)
                .await
                .unwrap()
        }
    };

    let first = list(DrAnchor::Start, 2, None).await;
    assert_eq!(sids(&first.items), all[0..2]);
    assert!(first.more_after && !first.more_before && first.keyset);

    // Across the tie on date_stop: the boundary is exact.
    let next = list(DrAnchor::After(all[1].clone()), 2, None).await;
    assert_eq!(sids(&next.items), all[2..4]);
    assert!(next.more_after && next.more_before);

    let last = list(DrAnchor::After(all[3].clone()), 2, None).await;
    assert_eq!(sids(&last.items), all[4..5]);
    assert!(!last.more_after && last.more_before);

    let back = list(DrAnchor::Before(all[4].clone()), 2, None).await;
    assert_eq!(sids(&back.items), all[2..4]);
    assert!(back.more_after && back.more_before);

    let start = list(DrAnchor::Before(all[2].clone()), 5, None).await;
    assert_eq!(sids(&start.items), all[0..2]);
    assert!(start.more_after && !start.more_before);

    // Newest first: "after" follows the list's own order.
    let desc = list(DrAnchor::After(all[3].clone()), 2, Some("date_stop desc")).await;
    let mut expected = all[1..3].to_vec();
    expected.reverse();
    assert_eq!(sids(&desc.items), expected);
    assert!(desc.more_after && desc.more_before);

    let none = list(DrAnchor::After(all[4].clone()), 2, None).await;
    assert!(none.items.is_empty() && !none.more_after && none.more_before);

    match f
        .store
        .call_drs(
            &f.partner,
            &page(2, None, None),
            &DrAnchor::After("no-such".into()),
        )
        .await
    {
        Err(StoreError::UnknownReference { field, sid }) => {
            assert_eq!((field, sid.as_str()), ("after", "no-such"))
        }
        other => panic!("expected an unknown reference, got {other:?}"),
    }
    // Another partner's record is no anchor either.
    assert!(matches!(
        f.store
            .call_drs(
                "someone-else",
                &page(2, None, None),
                &DrAnchor::Before(all[0].clone())
            )
            .await,
        Err(StoreError::UnknownReference {
            field: "before",
            ..
        })
    ));
}

async fn filters_and_other_orders_apply(backend: Backend) {
    let f = fixture(backend, "dr_filter").await;
    let all = five(&f).await;
    let busy = f
        .store
        .call_drs(
            &f.partner,
            &page(10, None, Some("status eq busy")),
            &DrAnchor::Start,
        )
        .await
        .unwrap();
    assert_eq!(sids(&busy.items), all[3..4]);
    let after = f
        .store
        .call_drs(
            &f.partner,
            &page(10, None, Some("duration ge 20")),
            &DrAnchor::After(all[2].clone()),
        )
        .await
        .unwrap();
    assert_eq!(sids(&after.items), all[3..5]);

    let by_duration = f
        .store
        .call_drs(
            &f.partner,
            &page(2, Some("duration desc"), None),
            &DrAnchor::Start,
        )
        .await
        .unwrap();
    assert!(!by_duration.keyset && by_duration.more_after);
    assert_eq!(by_duration.items[0].dr_sid, all[4]);
    assert!(matches!(
        f.store
            .call_drs(
                &f.partner,
                &page(2, Some("duration desc"), None),
                &DrAnchor::After(all[0].clone())
            )
            .await,
        Err(StoreError::InvalidOrder(_))
    ));
    assert!(matches!(
        f.store
            .call_drs(
                &f.partner,
                &page(2, None, Some("timeline eq x")),
                &DrAnchor::Start
            )
            .await,
        Err(StoreError::InvalidFilter(_))
    ));
}

store::backend_tests!(
    records_are_written_for_the_accounts_partner_only,
    after_and_before_page_both_ways_in_date_stop_order,
    filters_and_other_orders_apply
);
