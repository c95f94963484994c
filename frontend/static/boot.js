// Starts the web client. A file of its own, not an inline script, so that the Content
// Security Policy can refuse every inline script.
import init from "/pkg/conclave_web.js";
init();
