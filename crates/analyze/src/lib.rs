//! `netanom analyze` as a library call.
