"""The conformance kit's tests by topic (query, records, files, bulk), written against Harness."""
