//! kat binary library
