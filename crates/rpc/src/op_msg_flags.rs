//! OP_MSG flag bits: bits 0-15 are required (an unknown one is an error), bits 16-31 optional.

use std::fmt;

/// The 32-bit OP_MSG flags word.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpMsgFlags(pub u32);

impl OpMsgFlags {
    /// No flags set.
    pub const NONE: OpMsgFlags = OpMsgFlags(0);
    /// Bit 0: a CRC-32C checksum follows the sections.
    pub const CHECKSUM_PRESENT: OpMsgFlags = OpMsgFlags(1);
    /// Bit 1: another message follows without a reply (requests), or streams without a request (replies).
    pub const MORE_TO_COME: OpMsgFlags = OpMsgFlags(1 << 1);
    /// Bit 16: the requester accepts an exhaust stream of replies.
    pub const EXHAUST_ALLOWED: OpMsgFlags = OpMsgFlags(1 << 16);

    /// The required bits this implementation understands.
    const KNOWN_REQUIRED: u32 = Self::CHECKSUM_PRESENT.0 | Self::MORE_TO_COME.0;
    /// Bits 0-15; an unknown bit here makes the message illegal.
    const REQUIRED_MASK: u32 = 0xffff;

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: OpMsgFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags with `other`'s bits set.
    pub const fn with(self, other: OpMsgFlags) -> OpMsgFlags {
        OpMsgFlags(self.0 | other.0)
    }

    /// These flags with `other`'s bits cleared.
    pub const fn without(self, other: OpMsgFlags) -> OpMsgFlags {
        OpMsgFlags(self.0 & !other.0)
    }

    /// Whether a required bit this implementation does not know is set (IllegalOpMsgFlag 223).
    pub const fn has_unknown_required(self) -> bool {
        self.0 & !Self::KNOWN_REQUIRED & Self::REQUIRED_MASK != 0
    }

    /// Whether checksumPresent is set.
    pub const fn checksum_present(self) -> bool {
        self.contains(Self::CHECKSUM_PRESENT)
    }

    /// Whether moreToCome is set.
    pub const fn more_to_come(self) -> bool {
        self.contains(Self::MORE_TO_COME)
    }

    /// Whether exhaustAllowed is set.
    pub const fn exhaust_allowed(self) -> bool {
        self.contains(Self::EXHAUST_ALLOWED)
    }
}

impl fmt::Debug for OpMsgFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpMsgFlags(0b{:032b})", self.0)
    }
}
