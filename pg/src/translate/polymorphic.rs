//! Functions whose parameter or result types follow their arguments:
//! `pg_typeof`, `format`, `to_json[b]`, `json[b]_build_object`,
//! `json[b]_build_array`, `array_append`, `array_prepend`, `array_cat`,
//! `array_position`, `array_to_string`; and the session information
//! functions (`version()`, `current_database()`, `current_user`…).

use rusqlite::types::Value as SqlValue;
use sqlparser::ast::{Expr, Value};

use super::coerce::{CastKind, literal};
use super::context::{Translator, Ty, call, nested, number, string, take, type_name};
use crate::error::Error;
use crate::types::PgType;

/// What `version()` says: PostgreSQL's format, which drivers parse for
/// the server version (SQLAlchemy reads `PostgreSQL (\d+)\.(\d+)`).
pub(crate) fn version() -> String {
    let os = std::env::consts::OS;
    let platform = if os == "linux" {
        format!("{}-pc-linux-gnu", std::env::consts::ARCH)
    } else {
        format!("{}-{os}", std::env::consts::ARCH)
    };
    format!(
        "PostgreSQL 15.8 (patina {}) on {platform}, compiled by rustc, {}-bit",
        env!("CARGO_PKG_VERSION"),
        usize::BITS
    )
}

/// The array type of an argument, or 42883 naming the call.
fn array_type(ty: Ty, name: &str) -> Result<PgType, Error> {
    ty.known()
        .filter(|t| t.is_array())
        .ok_or_else(|| Error::UndefinedFunction(format!("{name}({})", ty.or_text())))
}

impl Translator<'_> {
    /// The value and type of a session information function without
    /// arguments, if `name` is one: `version()` is `text`, the others
    /// `name`.
    pub(crate) fn session_information(&self, name: &str) -> Option<(String, PgType)> {
        let value = match name {
            "version" => return Some((version(), PgType::TEXT)),
            "current_database" | "current_catalog" => self.catalog.database(),
            "current_schema" => "public".into(),
            "current_user" | "session_user" | "user" | "current_role" => self.catalog.user(),
            _ => return None,
        };
        Some((value, PgType::NAME))
    }

    /// A call of a function that reads the session, evaluated here:
    /// `pg_backend_pid()`, and `current_setting` of a literal name
    /// (`missing_ok` a literal too). `None` for other calls.
    pub(crate) fn session_function(
        &self,
        name: &str,
        args: &[&mut Expr],
    ) -> Result<Option<(Expr, PgType)>, Error> {
        Ok(match (name, args) {
            ("pg_backend_pid", []) => Some((number(self.catalog.backend_pid()), PgType::INT4)),
            ("current_setting", [setting, rest @ ..]) if rest.len() <= 1 => {
                let Some((SqlValue::Text(setting), None)) = literal(setting) else {
                    return Ok(None);
                };
                let missing_ok = match rest {
                    [] => false,
                    [flag] => match literal(flag) {
                        Some((SqlValue::Integer(flag), Some(PgType::BOOL))) => flag != 0,
                        _ => return Ok(None),
                    },
                    _ => return Ok(None),
                };
                let value = match self.catalog.setting(&setting.to_lowercase()) {
                    Some(value) => string(value),
                    None if missing_ok => Expr::value(Value::Null),
                    // PostgreSQL finds it missing when the statement runs
                    None => call("pg_unknown_setting", vec![string(setting)]),
                };
                Some((value, PgType::TEXT))
            }
            _ => None,
        })
    }

    /// Translates a call of one of these functions, whose arguments are
    /// already translated and typed, into `expr`; `None` when `name` is
    /// none of them.
    pub(crate) fn polymorphic_function(
        &mut self,
        name: &str,
        mut args: Vec<Expr>,
        types: Vec<Ty>,
        expr: &mut Expr,
    ) -> Result<Option<Ty>, Error> {
        let arity = args.len();
        let result = match (name, arity) {
            ("pg_typeof", 1) => {
                *expr = number(i64::from(types[0].or_text().without_modifier().oid()));
                Ty::Known(PgType::REGTYPE)
            }
            ("format", _) if arity > 0 => {
                let converted = self.all_text(args, &types)?;
                *expr = call("pg_format", converted);
                TEXT_RESULT
            }
            ("to_json" | "to_jsonb", 1) => {
                let jsonb = name == "to_jsonb";
                *expr = call("pg_json_build", json_args("value", jsonb, args, &types));
                json_result(jsonb)
            }
            ("json_build_object" | "jsonb_build_object", _) if arity.is_multiple_of(2) => {
                let jsonb = name.starts_with("jsonb");
                *expr = call("pg_json_build", json_args("object", jsonb, args, &types));
                json_result(jsonb)
            }
            ("json_build_array" | "jsonb_build_array", _) => {
                let jsonb = name.starts_with("jsonb");
                *expr = call("pg_json_build", json_args("array", jsonb, args, &types));
                json_result(jsonb)
            }
            ("array_append" | "array_position", 2) => {
                let array = array_type(types[0], name)?;
                let element = array.element().unwrap_or(PgType::TEXT);
                let mut element_arg = args.pop().unwrap_or_else(|| string(""));
                self.coerce(&mut element_arg, types[1], element, CastKind::Implicit)?;
                let array_arg = args.pop().unwrap_or_else(|| string("[]"));
                let sqlite = format!("pg_{name}");
                *expr = call(&sqlite, vec![array_arg, element_arg, type_name(element)]);
                if name == "array_position" {
                    Ty::Known(PgType::INT4)
                } else {
                    Ty::Known(array)
                }
            }
            ("array_prepend", 2) => {
                let array = array_type(types[1], name)?;
                let element = array.element().unwrap_or(PgType::TEXT);
                let array_arg = args.pop().unwrap_or_else(|| string("[]"));
                let mut element_arg = args.pop().unwrap_or_else(|| string(""));
                self.coerce(&mut element_arg, types[0], element, CastKind::Implicit)?;
                *expr = call(
                    "pg_array_prepend",
                    vec![element_arg, array_arg, type_name(element)],
                );
                Ty::Known(array)
            }
            ("array_cat", 2) => {
                let array = self.array_pair(&mut args, &types, name)?;
                *expr = call("pg_array_cat", args);
                Ty::Known(array)
            }
            ("array_to_string", 2 | 3) => {
                let array = array_type(types[0], name)?;
                let mut rest = args.split_off(1);
                for (arg, ty) in rest.iter_mut().zip(&types[1..]) {
                    self.coerce(arg, *ty, PgType::TEXT, CastKind::Implicit)?;
                }
                let mut call_args = args;
                call_args.push(type_name(array.element().unwrap_or(PgType::TEXT)));
                call_args.append(&mut rest);
                *expr = call("pg_array_to_string", call_args);
                TEXT_RESULT
            }
            _ => return Ok(None),
        };
        Ok(Some(result))
    }

    /// Converts each argument to its output text, as `format` does.
    fn all_text(&mut self, args: Vec<Expr>, types: &[Ty]) -> Result<Vec<Expr>, Error> {
        let mut converted = Vec::with_capacity(args.len());
        for (mut arg, ty) in args.into_iter().zip(types) {
            self.output_text(&mut arg, *ty)?;
            converted.push(arg);
        }
        Ok(converted)
    }

    /// Converts a value to the text its type's output function prints
    /// (what `concat` and `format` use): a cast to text, except that a
    /// boolean prints as `t`/`f`, not `true`/`false`.
    pub(crate) fn output_text(&mut self, arg: &mut Expr, ty: Ty) -> Result<(), Error> {
        if ty == Ty::Known(PgType::BOOL) {
            // 0 → 'f', 1 → 't', NULL stays NULL
            *arg = call(
                "substr",
                vec![string("ft"), nested(add_one(take(arg))), number(1)],
            );
            return Ok(());
        }
        self.coerce(arg, ty, PgType::TEXT, CastKind::Explicit)
    }

    /// Two array arguments (an untyped one takes the other's type),
    /// converted to their common type.
    pub(crate) fn array_pair(
        &mut self,
        args: &mut [Expr],
        types: &[Ty],
        what: &str,
    ) -> Result<PgType, Error> {
        let known: Vec<PgType> = types.iter().filter_map(|t| t.known()).collect();
        let target = match known.as_slice() {
            [] => PgType::TEXT.array_of(),
            [one] => *one,
            [a, b, ..] => super::operators::common_type(*a, *b, what)?,
        };
        if !target.is_array() {
            return Err(Error::UndefinedFunction(format!("{what}({target})")));
        }
        for (arg, ty) in args.iter_mut().zip(types) {
            self.coerce(arg, *ty, target, CastKind::Implicit)?;
        }
        Ok(target)
    }
}

const TEXT_RESULT: Ty = Ty::Known(PgType::TEXT);

fn add_one(expr: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(nested(expr)),
        op: sqlparser::ast::BinaryOperator::Plus,
        right: Box::new(number(1)),
    }
}

fn json_result(jsonb: bool) -> Ty {
    Ty::Known(if jsonb { PgType::JSONB } else { PgType::JSON })
}

/// `pg_json_build`'s arguments: the kind, the flavour, and each value
/// after its type name (an untyped one is text).
fn json_args(kind: &str, jsonb: bool, args: Vec<Expr>, types: &[Ty]) -> Vec<Expr> {
    let mut out = vec![string(kind), number(i64::from(jsonb))];
    for (arg, ty) in args.into_iter().zip(types) {
        out.push(type_name(ty.or_text()));
        out.push(arg);
    }
    out
}
