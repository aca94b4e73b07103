//! The route table: every route the server serves is added here, with what it takes and
//! answers, and both the router and `/openapi.json` are built from the same list, so a route
//! cannot be served without being described.

use crate::ApiState;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }
}

/// What a request carries or a response answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    Nothing,
    /// A JSON object of the named schema (`components.schemas`).
    Object(&'static str),
    /// The list envelope of the named schema, with paging, filter, order and field selection.
    List(&'static str),
    /// A file upload: multipart (`file_object` + `data`) or the raw bytes.
    Upload,
    /// Raw bytes of a stored file.
    Bytes,
    Text,
    /// A FlexML document (XML).
    Flexml,
    /// The OpenAPI document itself.
    OpenApi,
}

#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub path: &'static str,
    pub verb: Verb,
    pub summary: &'static str,
    pub request: Payload,
    pub response: Payload,
    /// 200 unless said otherwise (201 for uploads, 204 for deletes).
    pub status: u16,
}

pub struct Routes {
    methods: BTreeMap<&'static str, MethodRouter<ApiState>>,
    operations: Vec<Operation>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes {
            methods: BTreeMap::new(),
            operations: Vec::new(),
        }
    }

    /// Serves `handler` for `verb` on `path`, described by `op`.
    pub fn add<H, T>(mut self, verb: Verb, path: &'static str, handler: H, op: Op) -> Routes
    where
        H: Handler<T, ApiState>,
        T: 'static,
    {
        let methods = self.methods.remove(path).unwrap_or_default();
        self.methods
            .insert(path, methods.on(verb.filter(), handler));
        self.operations.push(Operation {
            path,
            verb,
            summary: op.summary,
            request: op.request,
            response: op.response,
            status: op.status,
        });
        self
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    pub fn into_router(self) -> (Router<ApiState>, Vec<Operation>) {
        let router = self
            .methods
            .into_iter()
            .fold(Router::new(), |r, (path, m)| r.route(path, m));
        (router, self.operations)
    }
}

/// The description part of an operation, built with the constructors below.
#[derive(Debug, Clone, Copy)]
pub struct Op {
    summary: &'static str,
    request: Payload,
    response: Payload,
    status: u16,
}

impl Op {
    pub const fn new(summary: &'static str, request: Payload, response: Payload) -> Op {
        Op {
            summary,
            request,
            response,
            status: 200,
        }
    }
    pub const fn list(summary: &'static str, schema: &'static str) -> Op {
        Op::new(summary, Payload::Nothing, Payload::List(schema))
    }
    pub const fn get(summary: &'static str, schema: &'static str) -> Op {
        Op::new(summary, Payload::Nothing, Payload::Object(schema))
    }
    /// POST, PATCH and PUT of a JSON object answered with the object.
    pub const fn write(summary: &'static str, schema: &'static str) -> Op {
        Op::new(summary, Payload::Object(schema), Payload::Object(schema))
    }
    pub const fn delete(summary: &'static str) -> Op {
        Op::new(summary, Payload::Nothing, Payload::Nothing).status(204)
    }
    pub const fn status(mut self, status: u16) -> Op {
        self.status = status;
        self
    }
}
