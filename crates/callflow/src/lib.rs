//! Call logic for flexvox, sans-IO: the dialect-independent instruction model, the FlexML
//! dialect that parses into it, and the interpreter that runs one call from documents to
//! media commands. No HTTP, no clock, no SIP here: the driver performs what comes out.

pub mod flexml;
pub mod interpreter;
pub mod model;

pub use interpreter::{CallInfo, ErrorHandler, FetchRequest, Input, Interpreter, Output};
pub use model::{Action, Document, HttpMethod, Verb};
