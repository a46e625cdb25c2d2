"""MIME parsing and composing, address rules, threading, HTML sanitizing: pure, no I/O."""
