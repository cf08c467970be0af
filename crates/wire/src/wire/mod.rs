//! Typed zero-copy views over protocol headers, one protocol per file.
