//! The Core API objects' queries (endpoints, trunk groups, trunks, DIDs) on SQLite and PostgreSQL:
//! generated credentials and the FlexML account, partner scoping, references, conflicts,
//! lists, and inbound routing through a DID's trunk group.

use serde_json::{json, Map, Value};
use store::query::{Filter, Order};
use store::testing::{self, Backend, TestStore};
use store::{
    CoreDidFields, EndpointFields, EndpointType, ListParams, StoreError, TrunkFields,
    TrunkGroupFields,
};

async fn temp_store(backend: Backend, name: &str) -> (TestStore, String, String) {
    let store = testing::open(backend, name).await.unwrap();
    let demo = store
        .provision_demo(None, "15550000001", "http://127.0.0.1:8080/demo/hello")
        .await
        .unwrap();
    let (other, _) = store.create_partner("other", None).await.unwrap();
    (store, demo.partner_sid, other.partner_sid)
}

fn params(filter: Option<&str>, order: Option<&str>) -> ListParams {
    ListParams {
        filter: filter.map(|f| Filter::parse(f).unwrap()),
        order: order.map(|o| Order::parse(o).unwrap()),
        limit: 100,
        offset: 0,
    }
}

fn named(name: &str) -> EndpointFields {
    EndpointFields {
        name: name.into(),
        ..EndpointFields::default()
    }
}

async fn a_flexml_endpoint_gets_credentials_and_an_account_that_dies_with_it(backend: Backend) {
    let (store, partner, _) = temp_store(backend, "flexml").await;
    let endpoint = store
        .create_endpoint(&partner, EndpointType::Flexml, &named("flexml"))
        .await
        .unwrap();
    let props = &endpoint.properties;
    let login = props["login"].as_str().unwrap();
    let password = props["password"].as_str().unwrap();
    assert!(login.starts_with("flexml_"));
    assert_eq!(password.len(), 20);
    assert_eq!(props["api_url"], "/flexml/v1");
    let account = store.account_by_login(login).await.unwrap().unwrap();
    assert_eq!(account.password, password);
    assert_eq!(account.endpoint_sid, endpoint.endpoint_sid);
    assert_eq!(props["account_sid"], account.account_sid.as_str());
    assert_eq!(account.name, "flexml");
    assert_eq!(endpoint.capacity, 0);
    assert!(endpoint.addresses.is_empty() && endpoint.transformations.is_empty());
    assert!(endpoint.date_created.ends_with('Z') && endpoint.date_created.len() == 24);

    assert!(store
        .delete_endpoint(&partner, &endpoint.endpoint_sid)
        .await
        .unwrap());
    assert!(store.account_by_login(login).await.unwrap().is_none());
    assert!(store
        .endpoint(&partner, &endpoint.endpoint_sid)
        .await
        .unwrap()
        .is_none());
    assert!(!store
        .delete_endpoint(&partner, &endpoint.endpoint_sid)
        .await
        .unwrap());
}

async fn other_application_types_get_credentials_without_an_account_third_party_gets_none(
    backend: Backend,
) {
    let (store, partner, _) = temp_store(backend, "types").await;
    let conference = store
        .create_endpoint(&partner, EndpointType::Conference, &named("conf"))
        .await
        .unwrap();
    assert_eq!(conference.properties["api_url"], "/conference/v1");
    let login = conference.properties["login"].as_str().unwrap();
    assert!(store.account_by_login(login).await.unwrap().is_none());

    let mut fields = named("pbx");
    fields.properties = Map::from_iter([("login".to_string(), json!("mine"))]);
    let third = store
        .create_endpoint(&partner, EndpointType::ThirdParty, &fields)
        .await
        .unwrap();
    assert_eq!(Value::Object(third.properties), json!({"login": "mine"}));
}

async fn updates_replace_fields_but_keep_the_system_properties(backend: Backend) {
    let (store, partner, other) = temp_store(backend, "update").await;
    let endpoint = store
        .create_endpoint(&partner, EndpointType::Flexml, &named("a"))
        .await
        .unwrap();
    let mut fields = EndpointFields::from(&endpoint);
    fields.name = "b".into();
    fields.capacity = 5;
    fields.attributes = Map::from_iter([("k".to_string(), json!("v"))]);
    fields.properties = Map::from_iter([
        ("login".to_string(), json!("stolen")),
        ("extra".to_string(), json!(1)),
    ]);
    fields.addresses = vec![json!({"ip": "10.0.0.1"})];
    fields.voip_token = Some("tok".into());
    let updated = store
        .update_endpoint(&partner, &endpoint.endpoint_sid, &fields)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.name, "b");
    assert_eq!(updated.capacity, 5);
    assert_eq!(updated.attributes["k"], "v");
    assert_eq!(updated.addresses, vec![json!({"ip": "10.0.0.1"})]);
    assert_eq!(updated.voip_token.as_deref(), Some("tok"));
    assert_eq!(updated.properties["extra"], 1);
    for key in store::SYSTEM_PROPERTIES {
        assert_eq!(updated.properties[key], endpoint.properties[key], "{key}");
    }
    // Another partner can neither see nor change nor delete it.
    assert!(store
        .endpoint(&other, &endpoint.endpoint_sid)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .update_endpoint(&other, &endpoint.endpoint_sid, &fields)
        .await
        .unwrap()
        .is_none());
    assert!(!store
        .delete_endpoint(&other, &endpoint.endpoint_sid)
        .await
        .unwrap());
}

async fn endpoint_lists_are_scoped_filtered_and_ordered(backend: Backend) {
    let (store, partner, other) = temp_store(backend, "list").await;
    for (name, kind) in [
        ("b_conf", EndpointType::Conference),
        ("c_flex", EndpointType::Flexml),
        ("a_pbx", EndpointType::ThirdParty),
    ] {
        store
            .create_endpoint(&partner, kind, &named(name))
            .await
            .unwrap();
    }
    store
        .create_endpoint(&other, EndpointType::Flexml, &named("theirs"))
        .await
        .unwrap();
    let names = |items: Vec<store::Endpoint>| -> Vec<String> {
        items.into_iter().map(|e| e.name).collect()
    };
    // The demo endpoint is there too, with the new columns' defaults.
    let (items, total) = store
        .endpoints(&partner, &params(None, Some("name")))
        .await
        .unwrap();
    assert_eq!(total, 4);
    assert_eq!(
        names(items.clone()),
        ["a_pbx", "b_conf", "c_flex", "demo_flexml"]
    );
    let demo = &items[3];
    assert_eq!((demo.capacity, demo.addresses.len()), (0, 0));
    assert_eq!(demo.properties["api_url"], "/flexml/v1");

    let (items, total) = store
        .endpoints(&partner, &params(Some("type eq flexml"), Some("name desc")))
        .await
        .unwrap();
    assert_eq!(
        (names(items), total),
        (vec!["demo_flexml".into(), "c_flex".into()], 2)
    );
    let (items, _) = store
        .endpoints(
            &partner,
            &params(Some("properties.api_url eq /conference/v1"), None),
        )
        .await
        .unwrap();
    assert_eq!(names(items), ["b_conf"]);
    let (items, _) = store.endpoints(&other, &params(None, None)).await.unwrap();
    assert_eq!(names(items), ["theirs"]);
    assert!(matches!(
        store
            .endpoints(&partner, &params(Some("addresses eq x"), None))
            .await,
        Err(StoreError::InvalidFilter(_))
    ));
}

async fn a_did_routes_through_its_trunk_group_to_the_endpoints_account(backend: Backend) {
    let (store, partner, other) = temp_store(backend, "route").await;
    let endpoint = store
        .create_endpoint(&partner, EndpointType::Flexml, &named("flexml"))
        .await
        .unwrap();
    let group = store
        .create_trunk_group(
            &partner,
            &TrunkGroupFields {
                endpoint_sid: Some(endpoint.endpoint_sid.clone()),
                ..TrunkGroupFields::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (group.name.as_str(), group.routing_type.as_str()),
        ("N/A", "failover")
    );
    assert!(group.trunks.is_empty());
    let did = store
        .create_core_did(
            &partner,
            "15162065319",
            &CoreDidFields {
                trunk_group_sid: Some(group.trunk_group_sid.clone()),
                ..CoreDidFields::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(did.country_code, "USA");
    assert_eq!(did.capabilities, 4);
    let (routed, account) = store.route_number("15162065319").await.unwrap().unwrap();
    assert_eq!(routed.did_sid, did.did_sid);
    assert_eq!(
        account.login,
        endpoint.properties["login"].as_str().unwrap()
    );
    // The FlexML view of the same DID belongs to the endpoint's account.
    let (dids, _) = store
        .dids(&account.account_sid, &ListParams::page(10, 0))
        .await
        .unwrap();
    assert_eq!(dids.len(), 1);

    // Unassigning the DID stops routing; reassigning restores it.
    let mut fields = CoreDidFields::from(&did);
    fields.trunk_group_sid = None;
    store
        .update_core_did(&partner, &did.did_sid, &fields)
        .await
        .unwrap()
        .unwrap();
    assert!(store.route_number("15162065319").await.unwrap().is_none());
    fields.trunk_group_sid = Some(group.trunk_group_sid.clone());
    store
        .update_core_did(&partner, &did.did_sid, &fields)
        .await
        .unwrap()
        .unwrap();
    assert!(store.route_number("15162065319").await.unwrap().is_some());

    // Deleting the endpoint detaches the trunk group and deletes the account.
    store
        .delete_endpoint(&partner, &endpoint.endpoint_sid)
        .await
        .unwrap();
    let group = store
        .trunk_group(&partner, &group.trunk_group_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(group.endpoint_sid, None);
    assert!(store.route_number("15162065319").await.unwrap().is_none());

    // Another partner sees neither the group nor the DID.
    assert!(store
        .trunk_group(&other, &group.trunk_group_sid)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .core_did(&other, &did.did_sid)
        .await
        .unwrap()
        .is_none());
    assert!(!store.delete_core_did(&other, &did.did_sid).await.unwrap());
}

async fn references_must_be_the_partners_own(backend: Backend) {
    let (store, partner, other) = temp_store(backend, "refs").await;
    let theirs = store
        .create_endpoint(&other, EndpointType::Flexml, &named("theirs"))
        .await
        .unwrap();
    let err = store
        .create_trunk_group(
            &partner,
            &TrunkGroupFields {
                endpoint_sid: Some(theirs.endpoint_sid.clone()),
                ..TrunkGroupFields::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::UnknownReference { field: "endpoint_sid", ref sid } if *sid == theirs.endpoint_sid
    ));
    let their_group = store
        .create_trunk_group(&other, &TrunkGroupFields::default())
        .await
        .unwrap();
    let err = store
        .create_core_did(
            &partner,
            "15162065320",
            &CoreDidFields {
                trunk_group_sid: Some(their_group.trunk_group_sid.clone()),
                ..CoreDidFields::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::UnknownReference {
            field: "trunk_group_sid",
            ..
        }
    ));
    let mine = store
        .create_trunk_group(&partner, &TrunkGroupFields::default())
        .await
        .unwrap();
    let err = store
        .create_trunk(
            &partner,
            &mine.trunk_group_sid,
            &TrunkFields {
                endpoint_sid: Some(theirs.endpoint_sid.clone()),
                ..TrunkFields::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownReference { .. }));
    assert!(store
        .create_trunk(
            &partner,
            &their_group.trunk_group_sid,
            &TrunkFields::default()
        )
        .await
        .unwrap()
        .is_none());
}

async fn a_number_exists_once_across_partners(backend: Backend) {
    let (store, partner, other) = temp_store(backend, "conflict").await;
    let fields = CoreDidFields::default();
    store
        .create_core_did(&partner, "15162065319", &fields)
        .await
        .unwrap();
    for (who, number) in [
        (&partner, "15162065319"),
        (&other, "15162065319"),
        (&other, "15550000001"),
    ] {
        let err = store
            .create_core_did(who, number, &fields)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    field: "phonenumber",
                    ..
                }
            ),
            "{number}: {err}"
        );
    }
}

async fn did_lists_filter_on_capabilities_formats_and_trunk_group(backend: Backend) {
    let (store, partner, other) = temp_store(backend, "dids").await;
    let group = store
        .create_trunk_group(&partner, &TrunkGroupFields::default())
        .await
        .unwrap();
    for (number, capabilities, assigned) in [
        ("15162065319", 7, true),
        ("15162065320", 4, false),
        ("442071234567", 3, true),
    ] {
        let fields = CoreDidFields {
            capabilities,
            trunk_group_sid: assigned.then(|| group.trunk_group_sid.clone()),
            ..CoreDidFields::default()
        };
        store
            .create_core_did(&partner, number, &fields)
            .await
            .unwrap();
    }
    let numbers = |items: Vec<store::CoreDid>| -> Vec<String> {
        items.into_iter().map(|d| d.phonenumber).collect()
    };
    let list = |filter: &'static str| {
        let store = store.clone();
        let partner = partner.clone();
        async move {
            numbers(
                store
                    .core_dids(&partner, &params(Some(filter), None))
                    .await
                    .unwrap()
                    .0,
            )
        }
    };
    assert_eq!(
        list("capabilities bit 4").await,
        ["15162065319", "15162065320", "15550000001"]
    );
    assert_eq!(
        list("capabilities bit 3").await,
        ["15162065319", "442071234567"]
    );
    assert_eq!(
        list("in_country_format like \"(516)%\"").await,
        ["15162065319", "15162065320"]
    );
    let by_group = format!("trunk_group_sid eq {}", group.trunk_group_sid);
    let (items, total) = store
        .core_dids(&partner, &params(Some(&by_group), Some("phonenumber desc")))
        .await
        .unwrap();
    assert_eq!(
        (numbers(items), total),
        (vec!["442071234567".into(), "15162065319".into()], 2)
    );
    assert_eq!(list("trunk_group_sid eq null").await, ["15162065320"]);
    let (_, total) = store.core_dids(&other, &params(None, None)).await.unwrap();
    assert_eq!(total, 0);
}

async fn trunks_live_in_their_group(backend: Backend) {
    let (store, partner, other) = temp_store(backend, "trunks").await;
    let endpoint = store
        .create_endpoint(&partner, EndpointType::ThirdParty, &named("pbx"))
        .await
        .unwrap();
    let group = store
        .create_trunk_group(&partner, &TrunkGroupFields::default())
        .await
        .unwrap();
    let sid = &group.trunk_group_sid;
    let first = store
        .create_trunk(&partner, sid, &TrunkFields::default())
        .await
        .unwrap()
        .unwrap();
    let second = store
        .create_trunk(
            &partner,
            sid,
            &TrunkFields {
                name: "second".into(),
                endpoint_sid: Some(endpoint.endpoint_sid.clone()),
                allow_transfer: true,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.name.as_str(), first.allow_transfer), ("N/A", false));
    let group = store.trunk_group(&partner, sid).await.unwrap().unwrap();
    assert_eq!(group.trunks, vec![first.clone(), second.clone()]);
    let (items, total) = store
        .trunks(&partner, sid, &params(Some("allow_transfer eq true"), None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((items, total), (vec![second.clone()], 1));
    assert!(store
        .trunks(&other, sid, &params(None, None))
        .await
        .unwrap()
        .is_none());

    let updated = store
        .update_trunk(
            &partner,
            sid,
            &first.trunk_sid,
            &TrunkFields {
                allow_transfer: true,
                ..TrunkFields::from(&first)
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert!(updated.allow_transfer);
    assert!(store
        .update_trunk(&other, sid, &first.trunk_sid, &TrunkFields::default())
        .await
        .unwrap()
        .is_none());

    // Deleting the endpoint clears the trunk's reference; deleting the group its trunks.
    store
        .delete_endpoint(&partner, &endpoint.endpoint_sid)
        .await
        .unwrap();
    let second = store
        .trunk(&partner, sid, &second.trunk_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.endpoint_sid, None);
    assert!(!store
        .delete_trunk(&other, sid, &first.trunk_sid)
        .await
        .unwrap());
    assert!(store
        .delete_trunk(&partner, sid, &first.trunk_sid)
        .await
        .unwrap());
    assert!(store.delete_trunk_group(&partner, sid).await.unwrap());
    assert!(store
        .trunk(&partner, sid, &second.trunk_sid)
        .await
        .unwrap()
        .is_none());
}

async fn deleting_a_trunk_group_unassigns_its_dids(backend: Backend) {
    let (store, partner, _) = temp_store(backend, "tgdelete").await;
    let group = store
        .create_trunk_group(&partner, &TrunkGroupFields::default())
        .await
        .unwrap();
    let did = store
        .create_core_did(
            &partner,
            "15162065319",
            &CoreDidFields {
                trunk_group_sid: Some(group.trunk_group_sid.clone()),
                ..CoreDidFields::default()
            },
        )
        .await
        .unwrap();
    assert!(store
        .delete_trunk_group(&partner, &group.trunk_group_sid)
        .await
        .unwrap());
    let did = store
        .core_did(&partner, &did.did_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(did.trunk_group_sid, None);
}

async fn a_database_of_the_first_schema_upgrades_with_its_demo(backend: Backend) {
    let scratch = testing::scratch(backend, "upgrade").await.unwrap();
    {
        let pool = sqlx::AnyPool::connect(scratch.url()).await.unwrap();
        let mut first = sqlx::migrate!("./migrations");
        first.migrations = first
            .migrations
            .iter()
            .filter(|m| m.version == 1)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        first.run(&pool).await.unwrap();
        // The demo as the first schema held it.
        for sql in [
            "INSERT INTO partners VALUES ('p', 'flexvox operator', '2024-01-01T00:00:00.000Z')",
            "INSERT INTO tokens VALUES ('tok', 'p', '2024-01-01T00:00:00.000Z')",
            "INSERT INTO endpoints VALUES ('e', 'p', 'demo_flexml', 'flexml', \
             '{\"account_sid\":\"a\",\"api_url\":\"/flexml/v1\",\"login\":\"demo_x\",\"password\":\"pw\"}', \
             '2024-01-01T00:00:00.000Z')",
            "INSERT INTO accounts VALUES ('a', 'e', 'demo', 'demo_x', 'pw', NULL, 'POST', 'basic', \
             '2024-01-01T00:00:00.000Z')",
            "INSERT INTO trunk_groups VALUES ('g', 'p', 'demo_flexml', 'e', '2024-01-01T00:00:00.000Z')",
            "INSERT INTO dids (did_sid, partner_sid, phonenumber, trunk_group_sid, country_code, url, \
             date_created) VALUES ('d', 'p', '15550000001', 'g', 'USA', 'http://x/demo/hello', \
             '2024-01-01T00:00:00.000Z')",
            "INSERT INTO provisioned VALUES ('partner', 'p'), ('demo_account', 'a'), ('demo_did', 'd')",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let store = scratch.open().await.unwrap();
    let creds = store
        .provision_demo(None, "15550000001", "http://x/demo/hello")
        .await
        .unwrap();
    assert_eq!(
        (creds.login.as_str(), creds.token.as_str()),
        ("demo_x", "tok")
    );
    let endpoint = store.endpoint("p", "e").await.unwrap().unwrap();
    assert_eq!(endpoint.endpoint_type, EndpointType::Flexml);
    assert_eq!((endpoint.capacity, endpoint.attributes.len()), (0, 0));
    let group = store.trunk_group("p", "g").await.unwrap().unwrap();
    assert_eq!(group.routing_type, "failover");
    let did = store.core_did("p", "d").await.unwrap().unwrap();
    assert_eq!((did.name.as_str(), did.capabilities), ("N/A", 4));
    let (_, account) = store.route_number("15550000001").await.unwrap().unwrap();
    assert_eq!(account.account_sid, "a");
}

/// Writers in parallel (as concurrent API requests are) all succeed: on SQLite a
/// transaction that read first could not wait for another writer ("database is locked").
async fn concurrent_writers_all_succeed(backend: Backend) {
    let (store, partner, _) = temp_store(backend, "concurrent").await;
    let group = store
        .create_trunk_group(&partner, &TrunkGroupFields::default())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (store, partner, group) = (
                (*store).clone(),
                partner.clone(),
                group.trunk_group_sid.clone(),
            );
            tokio::spawn(async move {
                for j in 0..10 {
                    store
                        .create_core_did(
                            &partner,
                            &format!("1212{i:03}{j:04}"),
                            &CoreDidFields {
                                trunk_group_sid: Some(group.clone()),
                                ..CoreDidFields::default()
                            },
                        )
                        .await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

store::backend_tests!(
    a_flexml_endpoint_gets_credentials_and_an_account_that_dies_with_it,
    other_application_types_get_credentials_without_an_account_third_party_gets_none,
    updates_replace_fields_but_keep_the_system_properties,
    endpoint_lists_are_scoped_filtered_and_ordered,
    a_did_routes_through_its_trunk_group_to_the_endpoints_account,
    references_must_be_the_partners_own,
    a_number_exists_once_across_partners,
    did_lists_filter_on_capabilities_formats_and_trunk_group,
    trunks_live_in_their_group,
    deleting_a_trunk_group_unassigns_its_dids,
    a_database_of_the_first_schema_upgrades_with_its_demo,
    concurrent_writers_all_succeed,
);
