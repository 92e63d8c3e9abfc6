//! The shared backend conformance suite, on the memory backend.

jobs_core::conformance_suite!(async { jobs_memory::MemoryBackend::new() });
