//! DID and account lists with filter, order and paging, on SQLite and PostgreSQL.

use store::query::{CompileError, Filter, Order};
use store::testing::{self, Backend, TestStore};
use store::{DidUpdate, ListParams, Store, StoreError};

async fn store_with_dids(backend: Backend, name: &str) -> (TestStore, String) {
    let store = testing::open(backend, name).await.unwrap();
    let creds = store
        .provision_demo(None, "15162065319", "http://127.0.0.1:8080/demo/hello")
        .await
        .unwrap();
    let settings = |url: Option<&str>, method: &str| DidUpdate {
        url: url.map(str::to_string),
        method: method.into(),
        status_callback_url: None,
        status_callback_method: "POST".into(),
    };
    for (number, url, method) in [
        ("15162065320", None, "GET"),
        ("15162065321", Some("http://app/a"), "GET"),
        ("12125550100", None, "POST"),
        ("442071234567", Some("http://app/b"), "POST"),
    ] {
        let did = store
            .create_did(&creds.account_sid, number, &settings(url, method))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(did.phonenumber, number);
        assert_eq!(did.account_sid, creds.account_sid);
    }
    (store, creds.account_sid)
}

fn params(filter: Option<&str>, order: Option<&str>, limit: i64, offset: i64) -> ListParams {
    ListParams {
        filter: filter.map(|f| Filter::parse(f).unwrap()),
        order: order.map(|o| Order::parse(o).unwrap()),
        limit,
        offset,
    }
}

async fn numbers(store: &Store, account: &str, p: &ListParams) -> (Vec<String>, i64) {
    let (items, total) = store.dids(account, p).await.unwrap();
    (items.into_iter().map(|d| d.phonenumber).collect(), total)
}

async fn dids_filter_order_and_page(backend: Backend) {
    let (store, account) = store_with_dids(backend, "dids").await;
    let all = numbers(&store, &account, &params(None, None, 10, 0)).await;
    assert_eq!(
        all,
        (
            vec![
                "12125550100".into(),
                "15162065319".into(),
                "15162065320".into(),
                "15162065321".into(),
                "442071234567".into()
            ],
            5
        ),
        "phone number order by default"
    );
    let like = params(Some("phonenumber like '1516%'"), None, 10, 0);
    assert_eq!(numbers(&store, &account, &like).await.1, 3);
    let page = params(
        Some("phonenumber like '1516%'"),
        Some("phonenumber desc"),
        2,
        1,
    );
    assert_eq!(
        numbers(&store, &account, &page).await,
        (vec!["15162065320".into(), "15162065319".into()], 3)
    );
    let null_url = params(Some("method eq GET and url eq null"), None, 10, 0);
    assert_eq!(
        numbers(&store, &account, &null_url).await,
        (vec!["15162065320".into()], 1)
    );
    let not_a = params(Some("url ne 'http://app/a'"), None, 10, 0);
    assert_eq!(
        numbers(&store, &account, &not_a).await.1,
        4,
        "null url is 'not equal'"
    );
    let formats = params(
        Some("in_country_format like '(516)%' and international_format ne '+1 516-206-5319'"),
        Some("international_format desc"),
        10,
        0,
    );
    assert_eq!(
        numbers(&store, &account, &formats).await.0,
        ["15162065321", "15162065320"]
    );
    let country = params(Some("country_code in (GBR, DEU)"), None, 10, 0);
    assert_eq!(
        numbers(&store, &account, &country).await.0,
        ["442071234567"]
    );

    let other = store
        .dids("someone-else", &params(None, None, 10, 0))
        .await
        .unwrap();
    assert_eq!(other.1, 0);
}

async fn accounts_filter_and_hide_the_password(backend: Backend) {
    let (store, account) = store_with_dids(backend, "accounts").await;
    let (items, total) = store
        .accounts(
            &account,
            &params(
                Some("name eq demo and date_created gt 2000-01-01"),
                None,
                10,
                0,
            ),
        )
        .await
        .unwrap();
    assert_eq!((items.len(), total), (1, 1));
    let (items, total) = store
        .accounts(
            &account,
            &params(Some("login ilike 'DEMO\\_%'"), Some("name desc"), 10, 0),
        )
        .await
        .unwrap();
    assert_eq!((items.len(), total), (1, 1));
    let (_, total) = store
        .accounts(&account, &params(Some("method eq GET"), None, 10, 0))
        .await
        .unwrap();
    assert_eq!(total, 0);
    match store
        .accounts(&account, &params(Some("password eq x"), None, 10, 0))
        .await
    {
        Err(StoreError::InvalidFilter(CompileError::UnknownField { field, .. })) => {
            assert_eq!(field, "password")
        }
        other => panic!("{other:?}"),
    }
    match store
        .dids(&account, &params(None, Some("colour"), 10, 0))
        .await
    {
        Err(StoreError::InvalidOrder(CompileError::UnknownField { .. })) => {}
        other => panic!("{other:?}"),
    }
}

async fn create_did_needs_an_account_and_a_new_number(backend: Backend) {
    let (store, account) = store_with_dids(backend, "create").await;
    let settings = DidUpdate {
        url: None,
        method: "POST".into(),
        status_callback_url: None,
        status_callback_method: "POST".into(),
    };
    assert!(store
        .create_did("no-such-account", "15550001111", &settings)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .create_did(&account, "15162065320", &settings)
        .await
        .is_err());
    let (did, _) = store.route_number("442071234567").await.unwrap().unwrap();
    assert_eq!(did.country_code, "GBR");
    assert_eq!(did.url.as_deref(), Some("http://app/b"));
}

store::backend_tests!(
    dids_filter_order_and_page,
    accounts_filter_and_hide_the_password,
    create_did_needs_an_account_and_a_new_number,
);

/// `maintain` runs on a live database (SQLite: PRAGMA optimize; PostgreSQL: nothing).
async fn maintenance_runs(backend: store::testing::Backend) {
    let store = store::testing::open(backend, "maintain").await.unwrap();
    store.maintain().await.unwrap();
}

store::backend_tests!(maintenance_runs);
