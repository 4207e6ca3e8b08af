#!/usr/bin/env node
// A committed launcher, so that installing the workspace links this bin before dist/ is built.
import "../dist/cli.js";
