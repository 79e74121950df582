"""The Serve applications the deploy ships; copied to every host, not imported here."""
