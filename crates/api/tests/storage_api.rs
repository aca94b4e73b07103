//! Storage over the Core API: containers and files end to end against the router on SQLite and
//! PostgreSQL with a storage folder — every route, its status codes and shapes, quotas,
//! another partner's objects answering 404, and uploaded bytes coming back unchanged.

use api::{router, ApiState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use store::testing::{self, Backend, TestStore};
use tower::ServiceExt;

struct Env {
    app: axum::Router,
    auth: String,
    other: String,
    /// The test's scratch folder (the storage files are in `storage/`).
    dir: std::path::PathBuf,
    /// Keeps the test's database and folder until the test ends.
    _db: TestStore,
}

async fn setup(backend: Backend, name: &str) -> Env {
    let db = testing::open(backend, name).await.unwrap();
    let store = db.store();
    let demo = store
        .provision_demo(None, "15162065319", "http://127.0.0.1:8080/demo/hello")
        .await
        .unwrap();
    let (_, other_token) = store.create_partner("other", None).await.unwrap();
    Env {
        app: router(ApiState::new(store)),
        auth: format!("Bearer {}", demo.token),
        other: format!("Bearer {other_token}"),
        dir: db.dir().to_path_buf(),
        _db: db,
    }
}

struct Reply {
    status: StatusCode,
    content_type: String,
    bytes: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

impl Env {
    async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Reply {
            status,
            content_type,
            bytes,
        }
    }

    async fn call(&self, method: &str, uri: &str, auth: &str, body: Option<Value>) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "flexvox.test");
        if !auth.is_empty() {
            req = req.header("authorization", auth);
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    async fn upload(&self, uri: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let req = Request::post(uri)
            .header("host", "flexvox.test")
            .header("authorization", &self.auth)
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    async fn container(&self, body: Value) -> String {
        let r = self
            .call(
                "POST",
                "/core/v2/storage/containers",
                &self.auth,
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json());
        r.json()["container_sid"].as_str().unwrap().to_string()
    }
}

fn multipart(file_object: Option<Value>, data: &[u8], filename: &str, mime: &str) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(object) = file_object {
        body.extend_from_slice(
            b"--BOUND\r\nContent-Disposition: form-data; name=\"file_object\"\r\n\r\n",
        );
        body.extend_from_slice(object.to_string().as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(
        format!(
            "--BOUND\r\nContent-Disposition: form-data; name=\"data\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(b"\r\n--BOUND--\r\n");
    body
}

const MULTIPART: &str = "multipart/form-data; boundary=BOUND";

/// Bytes that look like nothing in particular, with CRLFs and dashes to trip a naive parser.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"\r\n--BOUNDx\0\xff"[i % 11]).collect()
}

async fn containers_every_route_and_shape(backend: Backend) {
    let env = setup(backend, "containers").await;
    let r = env
        .call(
            "POST",
            "/core/v2/storage/containers",
            &env.auth,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let c = r.json();
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "allow_publish",
            "available_bytes_percent",
            "available_files_percent",
            "container_sid",
            "date_created",
            "name",
            "partner_sid",
            "quota_bytes",
            "quota_files",
            "total_bytes",
            "total_files",
            "type"
        ]
    );
    assert_eq!(c["quota_bytes"], 1073741824);
    assert_eq!(c["quota_files"], 100);
    assert_eq!(c["available_bytes_percent"], 100);
    assert_eq!(c["type"], "internal");
    assert_eq!(c["name"], "N/A");
    assert_eq!(c["container_sid"].as_str().unwrap().len(), 36);
    let first = c["container_sid"].as_str().unwrap().to_string();
    let second = env
        .container(json!({"name": "voicemail", "quota_bytes": 5000, "quota_files": 3}))
        .await;

    // List: envelope, filter, order and field selection as for every Core object.
    let r = env
        .call("GET", "/core/v2/storage/containers", &env.auth, None)
        .await;
    assert_eq!(
        (r.json()["count"].clone(), r.json()["total"].clone()),
        (json!(2), json!(2))
    );
    let r = env
        .call(
            "GET",
            "/core/v2/storage/containers?filter=quota_files%20lt%2050&include_fields=container_sid,name",
            &env.auth,
            None,
        )
        .await;
    assert_eq!(
        r.json()["items"],
        json!([{"container_sid": second, "name": "voicemail"}])
    );
    let r = env
        .call(
            "GET",
            "/core/v2/storage/containers?order=name%20desc&limit=1",
            &env.auth,
            None,
        )
        .await;
    assert_eq!(r.json()["items"][0]["name"], "voicemail");
    assert_eq!(r.json()["has_more"], true);
    let r = env
        .call(
            "GET",
            "/core/v2/storage/containers?filter=nosuch%20eq%201",
            &env.auth,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Get, PATCH (merge), PUT (defaults for what is not sent), bad values.
    let one = format!("/core/v2/storage/containers/{second}");
    let r = env
        .call(
            "GET",
            &format!("{one}?exclude_fields=name"),
            &env.auth,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json().get("name").is_none());
    let r = env
        .call(
            "PATCH",
            &one,
            &env.auth,
            Some(json!({"name": "vm", "allow_publish": false})),
        )
        .await;
    assert_eq!(
        (r.json()["name"].clone(), r.json()["quota_files"].clone()),
        (json!("vm"), json!(3))
    );
    assert_eq!(r.json()["allow_publish"], false);
    let r = env
        .call("PUT", &one, &env.auth, Some(json!({"name": "vm2"})))
        .await;
    assert_eq!(r.json()["quota_files"], 100);
    assert_eq!(r.json()["allow_publish"], true);
    let r = env
        .call(
            "PATCH",
            &one,
            &env.auth,
            Some(json!({"quota_bytes": -1, "bogus": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = r.json();
    let fields: Vec<&str> = errors["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["bogus", "quota_bytes"]);

    // Another partner's container does not exist for it; no token is a 401.
    for method in ["GET", "PATCH", "PUT", "DELETE"] {
        let body = (method == "PATCH" || method == "PUT").then(|| json!({}));
        let r = env.call(method, &one, &env.other, body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(r.json()["errors"][0]["message"], "cannot find container");
    }
    let r = env
        .call("GET", "/core/v2/storage/containers", &env.other, None)
        .await;
    assert_eq!(r.json()["total"], 0);
    let r = env
        .call("GET", "/core/v2/storage/containers", "", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let r = env.call("DELETE", &one, &env.auth, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = env.call("DELETE", &one, &env.auth, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = env
        .call(
            "GET",
            &format!("/core/v2/storage/containers/{first}"),
            &env.auth,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn multipart_upload_round_trip_and_file_routes(backend: Backend) {
    let env = setup(backend, "files").await;
    let container = env.container(json!({"name": "prompts"})).await;
    let bytes = payload(70_000);
    let r = env
        .upload(
            "/core/v2/storage/files",
            MULTIPART,
            multipart(
                Some(json!({"container_sid": container})),
                &bytes,
                "Greeting.WAV",
                "audio/wav",
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let f = r.json();
    let sid = f["file_sid"].as_str().unwrap().to_string();
    assert_eq!(f["container_sid"], container.as_str());
    assert_eq!(f["name"], "Greeting.WAV");
    assert_eq!(f["mime_type"], "audio/wav");
    assert_eq!(f["content_format"], "wav");
    assert_eq!(f["file_bytes"], 70_000);
    assert_eq!(f["file_access_name"], format!("{sid}.wav"));
    assert_eq!(f["publish"], "file_sid");
    assert_eq!(f["publish_uri"], format!("http://flexvox.test/f/{sid}"));
    assert_eq!(f["type"], "file");
    for key in ["date_created", "date_modified", "partner_sid"] {
        assert!(f[key].is_string(), "{key}");
    }

    // The bytes come back unchanged: with the token, and published without one.
    let data = format!("/core/v2/storage/files/{sid}/data");
    let r = env.call("GET", &data, &env.auth, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "audio/wav");
    assert!(r.bytes == bytes, "downloaded bytes differ");
    for public in [format!("/f/{sid}"), format!("/f/{sid}.wav")] {
        let r = env.call("GET", &public, "", None).await;
        assert_eq!(r.status, StatusCode::OK, "{public}");
        assert!(r.bytes == bytes);
    }
    let c = env
        .call(
            "GET",
            &format!("/core/v2/storage/containers/{container}"),
            &env.auth,
            None,
        )
        .await
        .json();
    assert_eq!(
        (c["total_bytes"].clone(), c["total_files"].clone()),
        (json!(70_000), json!(1))
    );

    // Raw bytes with the fields in the query (CarrierX's octet-stream upload).
    let r = env
        .upload(
            &format!("/core/v2/storage/files?container_sid={container}&name=note.txt"),
            "application/octet-stream",
            b"hello".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    assert_eq!(r.json()["mime_type"], "text/plain");
    let note = r.json()["file_sid"].as_str().unwrap().to_string();

    // List with filter and field selection; get one.
    let r = env
        .call(
            "GET",
            "/core/v2/storage/files?filter=content_format%20eq%20%27wav%27&include_fields=file_sid,publish_uri",
            &env.auth,
            None,
        )
        .await;
    assert_eq!(
        r.json()["items"],
        json!([{"file_sid": sid, "publish_uri": format!("http://flexvox.test/f/{sid}")}])
    );
    assert_eq!(r.json()["total"], 1);
    let one = format!("/core/v2/storage/files/{sid}");
    let r = env.call("GET", &one, &env.auth, None).await;
    assert_eq!(r.json()["file_sid"], sid.as_str());

    // PATCH: unpublished, the public address stops serving it.
    let r = env
        .call(
            "PATCH",
            &one,
            &env.auth,
            Some(json!({"name": "hello.wav", "publish": "none"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (r.json()["name"].clone(), r.json()["publish_uri"].clone()),
        (json!("hello.wav"), Value::Null)
    );
    assert_eq!(
        env.call("GET", &format!("/f/{sid}"), "", None).await.status,
        StatusCode::NOT_FOUND
    );
    let r = env
        .call(
            "PUT",
            &one,
            &env.auth,
            Some(json!({"publish": "file_sid", "container_sid": container})),
        )
        .await;
    assert_eq!(
        r.json()["publish_uri"],
        format!("http://flexvox.test/f/{sid}")
    );
    let r = env
        .call(
            "PATCH",
            &one,
            &env.auth,
            Some(json!({"container_sid": "elsewhere", "publish": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Another partner's file does not exist for it, on every route.
    for (method, uri) in [
        ("GET", one.as_str()),
        ("GET", data.as_str()),
        ("PATCH", one.as_str()),
        ("DELETE", one.as_str()),
    ] {
        let body = (method == "PATCH").then(|| json!({}));
        let r = env.call(method, uri, &env.other, body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert_eq!(r.json()["errors"][0]["message"], "cannot find file");
    }

    // A container with files is not deleted; deleting the files frees it.
    let container_uri = format!("/core/v2/storage/containers/{container}");
    let r = env.call("DELETE", &container_uri, &env.auth, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["errors"][0]["field"], "total_files");
    for file in [&sid, &note] {
        let r = env
            .call(
                "DELETE",
                &format!("/core/v2/storage/files/{file}"),
                &env.auth,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
    assert_eq!(
        env.call("GET", &data, &env.auth, None).await.status,
        StatusCode::NOT_FOUND
    );
    let files_on_disk = std::fs::read_dir(env.dir.join("storage").join(&container))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files_on_disk, 0, "deleting a file removes its bytes");
    let r = env.call("DELETE", &container_uri, &env.auth, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

async fn quotas_are_enforced_with_a_field_error(backend: Backend) {
    let env = setup(backend, "quotas").await;
    let container = env
        .container(json!({"quota_bytes": 100, "quota_files": 2}))
        .await;
    let upload = |len: usize| {
        multipart(
            Some(json!({"container_sid": container})),
            &payload(len),
            "a.bin",
            "application/octet-stream",
        )
    };
    let r = env
        .upload("/core/v2/storage/files", MULTIPART, upload(101))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "quota_bytes");
    for _ in 0..2 {
        let r = env
            .upload("/core/v2/storage/files", MULTIPART, upload(40))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = env
        .upload("/core/v2/storage/files", MULTIPART, upload(1))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "quota_files");
    let c = env
        .call(
            "GET",
            &format!("/core/v2/storage/containers/{container}"),
            &env.auth,
            None,
        )
        .await
        .json();
    assert_eq!(c["available_bytes_percent"], 20);
    assert_eq!(c["available_files_percent"], 0);
    // A quota cannot go below what the container holds.
    let r = env
        .call(
            "PATCH",
            &format!("/core/v2/storage/containers/{container}"),
            &env.auth,
            Some(json!({"quota_bytes": 79})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "quota_bytes");
}

async fn bad_uploads_say_what_is_wrong(backend: Backend) {
    let env = setup(backend, "bad-uploads").await;
    let container = env.container(json!({})).await;
    let check = |r: &Reply, status: StatusCode, needle: &str| {
        assert_eq!(r.status, status, "{}", r.json());
        let text = r.json().to_string();
        assert!(text.contains(needle), "{needle:?} not in {text}");
    };
    let r = env
        .upload(
            "/core/v2/storage/files",
            MULTIPART,
            b"no parts at all".to_vec(),
        )
        .await;
    check(&r, StatusCode::BAD_REQUEST, "no part opening with --BOUND");
    let r = env
        .upload(
            "/core/v2/storage/files",
            "multipart/form-data",
            b"x".to_vec(),
        )
        .await;
    check(&r, StatusCode::BAD_REQUEST, "boundary");
    let mut truncated = multipart(
        Some(json!({"container_sid": container})),
        b"abc",
        "a",
        "text/plain",
    );
    truncated.truncate(truncated.len() - 12);
    let r = env
        .upload("/core/v2/storage/files", MULTIPART, truncated)
        .await;
    check(&r, StatusCode::BAD_REQUEST, "closing boundary");
    let no_data = format!(
        "--BOUND\r\nContent-Disposition: form-data; name=\"file_object\"\r\n\r\n{{\"container_sid\":\"{container}\"}}\r\n--BOUND--\r\n"
    );
    let r = env
        .upload("/core/v2/storage/files", MULTIPART, no_data.into_bytes())
        .await;
    check(&r, StatusCode::BAD_REQUEST, "no data part");
    let bad_object = multipart(None, b"x", "a", "text/plain")
        .into_iter()
        .collect::<Vec<u8>>();
    let bad_object = [
        b"--BOUND\r\nContent-Disposition: form-data; name=\"file_object\"\r\n\r\n[1]\r\n"
            .as_slice(),
        &bad_object,
    ]
    .concat();
    let r = env
        .upload("/core/v2/storage/files", MULTIPART, bad_object)
        .await;
    check(
        &r,
        StatusCode::BAD_REQUEST,
        "file_object part must be a JSON object",
    );
    let r = env
        .upload(
            "/core/v2/storage/files",
            MULTIPART,
            multipart(None, b"x", "a", "text/plain"),
        )
        .await;
    check(&r, StatusCode::UNPROCESSABLE_ENTITY, "container_sid");
    let r = env
        .upload(
            "/core/v2/storage/files",
            MULTIPART,
            multipart(
                Some(json!({"container_sid": "nope"})),
                b"x",
                "a",
                "text/plain",
            ),
        )
        .await;
    check(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cannot find container",
    );
    // Another partner cannot upload into this partner's container.
    let req = Request::post("/core/v2/storage/files")
        .header("authorization", &env.other)
        .header("content-type", MULTIPART)
        .body(Body::from(multipart(
            Some(json!({"container_sid": container})),
            b"x",
            "a",
            "text/plain",
        )))
        .unwrap();
    let r = env.send(req).await;
    check(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cannot find container",
    );
    // An upload larger than 2 MB (axum's default body limit) still goes through.
    let r = env
        .upload(
            &format!("/core/v2/storage/files?container_sid={container}"),
            "application/octet-stream",
            payload(3 * 1024 * 1024),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["file_bytes"], 3 * 1024 * 1024);
}

store::backend_tests!(
    containers_every_route_and_shape,
    multipart_upload_round_trip_and_file_routes,
    quotas_are_enforced_with_a_field_error,
    bad_uploads_say_what_is_wrong,
);
