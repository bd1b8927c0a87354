//! Decorations: typed values other crates attach to a `ServiceContext`, `Client` or `OperationContext`.
//!
//! As in mongod's `Decorable`, a decoration is declared before its owner type is constructed (on the
//! [`ServiceContextBuilder`](crate::ServiceContextBuilder)), built with every owner, and dropped with it in
//! reverse order of declaration. A constructor that fails unwinds those already built. Declaring returns a
//! [`Decoration`] key; the owner's slots are `Box<dyn Any>`, so a key finds its value by index and
//! downcast, without `unsafe` and without this crate knowing the decorating crate's types.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use docwire_rpc::StatusResult;

/// A type that carries decorations. `Link` is what a decoration's constructor receives to find its owner
/// later (the owner is still being built when decorations are).
pub trait Decorable: 'static {
    /// A reference to the owner that a decoration may keep (weak where the owner is shared).
    type Link;
}

type Slot = Box<dyn Any + Send + Sync>;
type Constructor<O> = Box<dyn Fn(&<O as Decorable>::Link) -> StatusResult<Slot> + Send + Sync>;

/// Distinguishes registries, so a key from one cannot read another's slots.
static NEXT_REGISTRY_ID: AtomicU64 = AtomicU64::new(1);

/// The declared decorations of one owner type, in declaration order.
pub struct DecorationRegistry<O: Decorable> {
    id: u64,
    constructors: Vec<(&'static str, Constructor<O>)>,
}

impl<O: Decorable> Default for DecorationRegistry<O> {
    fn default() -> Self {
        DecorationRegistry {
            id: NEXT_REGISTRY_ID.fetch_add(1, Ordering::Relaxed),
            constructors: Vec::new(),
        }
    }
}

impl<O: Decorable> fmt::Debug for DecorationRegistry<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.constructors.iter().map(|(name, _)| *name).collect();
        f.debug_struct("DecorationRegistry")
            .field("decorations", &names)
            .finish()
    }
}

impl<O: Decorable> DecorationRegistry<O> {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a decoration built by `construct` with every owner; a failure fails the owner's creation.
    pub fn declare<T, F>(&mut self, construct: F) -> Decoration<O, T>
    where
        T: Any + Send + Sync,
        F: Fn(&O::Link) -> StatusResult<T> + Send + Sync + 'static,
    {
        let index = self.constructors.len();
        let constructor: Constructor<O> = Box::new(move |link| construct(link).map(|v| Box::new(v) as Slot));
        self.constructors.push((std::any::type_name::<T>(), constructor));
        Decoration {
            registry: self.id,
            index,
            _types: PhantomData,
        }
    }

    /// Declares a decoration that starts as `T::default()`.
    pub fn declare_default<T: Any + Send + Sync + Default>(&mut self) -> Decoration<O, T> {
        self.declare(|_| Ok(T::default()))
    }

    /// How many decorations are declared.
    pub fn len(&self) -> usize {
        self.constructors.len()
    }

    /// Whether none are declared.
    pub fn is_empty(&self) -> bool {
        self.constructors.is_empty()
    }

    /// Builds every decoration for a new owner, in order; on the first failure drops those already
    /// built (in reverse) and returns that failure.
    pub fn build(&self, link: &O::Link) -> StatusResult<Decorations<O>> {
        let mut built = Decorations::empty(self.id);
        built.slots.reserve_exact(self.constructors.len());
        for (_, construct) in &self.constructors {
            // On error `built` drops here, unwinding in reverse order.
            built.slots.push(construct(link)?);
        }
        Ok(built)
    }
}

/// A key for one declared decoration of type `T` on owners of type `O`. Copy it wherever it is needed.
pub struct Decoration<O, T> {
    registry: u64,
    index: usize,
    _types: PhantomData<fn() -> (O, T)>,
}

impl<O, T> Clone for Decoration<O, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O, T> Copy for Decoration<O, T> {}

impl<O, T> fmt::Debug for Decoration<O, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decoration<{}>#{}", std::any::type_name::<T>(), self.index)
    }
}

/// One owner's built decorations. Dropped in reverse order of declaration.
pub struct Decorations<O> {
    registry: u64,
    slots: Vec<Slot>,
    _owner: PhantomData<fn() -> O>,
}

impl<O> Decorations<O> {
    pub(crate) fn empty(registry: u64) -> Self {
        Decorations {
            registry,
            slots: Vec::new(),
            _owner: PhantomData,
        }
    }

    /// The value for `key`, or `None` if the key was declared on another registry.
    pub fn get<T: Any>(&self, key: Decoration<O, T>) -> Option<&T> {
        if key.registry != self.registry {
            return None;
        }
        self.slots.get(key.index)?.downcast_ref()
    }

    /// The value for `key`, mutably; `None` if the key was declared on another registry.
    pub fn get_mut<T: Any>(&mut self, key: Decoration<O, T>) -> Option<&mut T> {
        if key.registry != self.registry {
            return None;
        }
        self.slots.get_mut(key.index)?.downcast_mut()
    }

    /// How many decorations this owner carries.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether this owner carries none.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

impl<O> Drop for Decorations<O> {
    fn drop(&mut self) {
        // Reverse order: a later decoration may refer to an earlier one, never the other way round.
        while let Some(slot) = self.slots.pop() {
            drop(slot);
        }
    }
}

impl<O> fmt::Debug for Decorations<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decorations({})", self.slots.len())
    }
}
