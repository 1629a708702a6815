"""Tests that drive the gateway's web apps in a real Chromium."""
