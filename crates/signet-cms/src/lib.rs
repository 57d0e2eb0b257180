//! signet-cms
