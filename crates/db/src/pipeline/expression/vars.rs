//! Variables visible to an expression: the document being processed (`$$ROOT`, `$$CURRENT`) and
//! scopes of named bindings (`$let`, `$map`/`$filter` items, `$lookup`'s `let`), innermost first.

use bson::{Bson, Document};

/// One scope of named bindings; a missing value (`None`) is a variable bound to "missing".
#[derive(Debug)]
pub struct Frame<'a> {
    bindings: &'a [(String, Option<Bson>)],
    parent: Option<&'a Frame<'a>>,
}

impl<'a> Frame<'a> {
    /// A scope holding `bindings`, inside `parent`.
    pub fn new(bindings: &'a [(String, Option<Bson>)], parent: Option<&'a Frame<'a>>) -> Frame<'a> {
        Frame { bindings, parent }
    }
}

/// What an expression evaluates against.
#[derive(Clone, Copy, Debug)]
pub struct Vars<'a> {
    root: &'a Document,
    frame: Option<&'a Frame<'a>>,
}

impl<'a> Vars<'a> {
    /// `root` as `$$ROOT` and `$$CURRENT`, with the bindings of `frame` (if any).
    pub fn new(root: &'a Document, frame: Option<&'a Frame<'a>>) -> Vars<'a> {
        Vars { root, frame }
    }

    /// The document being processed.
    pub fn root(&self) -> &'a Document {
        self.root
    }

    /// The innermost scope.
    pub fn frame(&self) -> Option<&'a Frame<'a>> {
        self.frame
    }

    /// The value bound to `name`: `None` when undefined, `Some(None)` when bound to missing.
    pub fn lookup(&self, name: &str) -> Option<Option<&'a Bson>> {
        let mut frame = self.frame;
        while let Some(f) = frame {
            // Later bindings in one scope shadow earlier ones (a $lookup let inherited then redefined).
            if let Some((_, v)) = f.bindings.iter().rev().find(|(n, _)| n == name) {
                return Some(v.as_ref());
            }
            frame = f.parent;
        }
        None
    }
}
