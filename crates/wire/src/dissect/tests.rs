//! Dissector tests on hand-built frames.

use super::*;
