# Build targets for `sam build` (template.yaml: Metadata BuildMethod: makefile).
#
# SAM runs `make build-<LogicalId>` with ARTIFACTS_DIR set to that resource's output
# directory, from the CodeUri/ContentUri (the repo root): in the source tree with
# `build_in_source = true` (samconfig.toml), else in a scratch copy of it. Paths here are
# relative to the current directory, so both work.
#
#   CoreLayer        -> $(ARTIFACTS_DIR)/java/lib/*.jar  runnerscale-core + its runtime dependencies
#   WebhookFunction  -> $(ARTIFACTS_DIR)/...             functions/webhook/target/classes only
#   ScalerFunction   -> $(ARTIFACTS_DIR)/...             functions/scaler/target/classes only
#   LifecycleFunction -> $(ARTIFACTS_DIR)/...            functions/lifecycle/target/classes only
#
# Maven runs once for all four (a stamp that is newer than every source file), not once
# per target. Local use without SAM:
#
#   make sam-build          lays out .aws-sam/build/<LogicalId> (+ template.yaml) like `sam build`
#   make check-artifacts    verifies each handler links against its artifact + the layer only
#   make sync-user-data     copies instance/user-data.sh into template.yaml (example launch template)
#   make check-user-data    fails when that copy differs from instance/user-data.sh
#   make clean              removes .aws-sam and the stamp (not Maven's target/ directories)
#
# Offline: make MVN_FLAGS="-B -q -o" ...

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := sam-build
.DELETE_ON_ERROR:

MVN       ?= mvn
MVN_FLAGS ?= -B -q

CORE_DIR    := layers/core
WEBHOOK_DIR := functions/webhook
SCALER_DIR  := functions/scaler
LIFECYCLE_DIR := functions/lifecycle

# Lives in core's target/: `mvn clean` removes it together with what it stands for.
STAMP     := $(CORE_DIR)/target/sam-build.stamp
LAYER_LIB := $(CORE_DIR)/target/sam-layer/java/lib

SAM_BUILD_DIR ?= .aws-sam/build
SAM_RESOURCES := CoreLayer WebhookFunction ScalerFunction LifecycleFunction
# The source tree as seen from $(SAM_BUILD_DIR), for paths the built template keeps (DefinitionUri):
# `..` per component of a relative build directory (as `sam build` writes them), else absolute.
SRC_FROM_BUILD := $(if $(filter /%,$(SAM_BUILD_DIR)),$(CURDIR),$(shell echo "$(SAM_BUILD_DIR)" | sed -E 's#/+$$##; s#[^/]+#..#g'))

# Everything the four artifacts are built from (Maven's target/ directories excluded); the
# directories too, whose mtime changes when a file is deleted or renamed.
SOURCES := $(shell find pom.xml $(CORE_DIR) $(WEBHOOK_DIR) $(SCALER_DIR) $(LIFECYCLE_DIR) \
             -name target -prune -o \( -type f -o -type d \) -print 2>/dev/null)
# Rebuild as well when an output has gone (e.g. `mvn -pl functions/webhook clean`).
OUTPUTS := $(WEBHOOK_DIR)/target/classes $(SCALER_DIR)/target/classes $(LIFECYCLE_DIR)/target/classes $(LAYER_LIB)
MISSING := $(filter-out $(wildcard $(OUTPUTS)),$(OUTPUTS))

.PHONY: build-CoreLayer build-WebhookFunction build-ScalerFunction build-LifecycleFunction \
        sam-build $(addprefix sam-build-,$(SAM_RESOURCES)) check-artifacts \
        sync-user-data check-user-data clean FORCE

# ------------------------------------------------------------------ Maven, once
$(STAMP): $(SOURCES) $(if $(MISSING),FORCE)
	@echo "maven: packaging $(CORE_DIR), $(WEBHOOK_DIR), $(SCALER_DIR), $(LIFECYCLE_DIR)"
	$(MVN) $(MVN_FLAGS) -DskipTests -pl $(WEBHOOK_DIR),$(SCALER_DIR),$(LIFECYCLE_DIR) -am package
	rm -rf "$(LAYER_LIB)"
	mkdir -p "$(LAYER_LIB)"
	@# runtime dependencies of core (prependGroupId: two artifacts may share an artifactId)
	$(MVN) $(MVN_FLAGS) -f $(CORE_DIR)/pom.xml dependency:copy-dependencies \
	  -DincludeScope=runtime -Dmdep.prependGroupId=true -DoutputDirectory="$(CURDIR)/$(LAYER_LIB)"
	@# core's own jar: the one this build just packaged (maven-archiver records its version)
	version=$$(sed -n 's/^version=//p' $(CORE_DIR)/target/maven-archiver/pom.properties); \
	jar="$(CORE_DIR)/target/runnerscale-core-$$version.jar"; \
	if [ ! -f "$$jar" ]; then echo "error: $$jar not found (did the core build produce it?)" >&2; exit 1; fi; \
	cp -p "$$jar" "$(LAYER_LIB)/"
	touch "$@"

FORCE:

# ------------------------------------------------------------------ sam build targets
# Checked before anything runs (no Maven build just to fail afterwards).
ifneq ($(filter build-%,$(MAKECMDGOALS)),)
ifeq ($(strip $(ARTIFACTS_DIR)),)
$(error ARTIFACTS_DIR is not set: `sam build` sets it; for a local build run `make sam-build`)
endif
endif

build-CoreLayer: $(STAMP)
	mkdir -p "$(ARTIFACTS_DIR)/java/lib"
	cp -p $(LAYER_LIB)/*.jar "$(ARTIFACTS_DIR)/java/lib/"

# A function artifact is its module's classes and resources, at the root of the zip (as
# `sam build` lays out Java functions); every library comes from the layer.
define copy-classes
	@if [ -z "$$(ls -A $(1)/target/classes 2>/dev/null)" ]; then \
	  echo "error: $(1)/target/classes is missing or empty: does the module have sources?" >&2; exit 1; fi
	mkdir -p "$(ARTIFACTS_DIR)"
	cp -pR $(1)/target/classes/. "$(ARTIFACTS_DIR)/"
endef

build-WebhookFunction: $(STAMP)
	$(call copy-classes,$(WEBHOOK_DIR))

build-ScalerFunction: $(STAMP)
	$(call copy-classes,$(SCALER_DIR))

build-LifecycleFunction: $(STAMP)
	$(call copy-classes,$(LIFECYCLE_DIR))

# ------------------------------------------------------------------ local convenience
# Same layout as `sam build`: .aws-sam/build/<LogicalId>/ and a template whose CodeUri and
# ContentUri point at those directories and whose DefinitionUri points back into the source
# tree, so `sam deploy` / `sam local invoke` can use it. Checks the user data copy first: the
# built template is what gets deployed.
sam-build: check-user-data $(addprefix sam-build-,$(SAM_RESOURCES))
	awk -v src="$(SRC_FROM_BUILD)" -f scripts/sam-built-template.awk template.yaml > "$(SAM_BUILD_DIR)/template.yaml"
	@echo "built $(SAM_RESOURCES) and template.yaml in $(SAM_BUILD_DIR)/"

# (a static pattern rule: plain pattern rules are never applied to .PHONY targets)
$(addprefix sam-build-,$(SAM_RESOURCES)): sam-build-%: $(STAMP)
	rm -rf "$(SAM_BUILD_DIR)/$*"
	mkdir -p "$(SAM_BUILD_DIR)/$*"
	$(MAKE) --no-print-directory build-$* ARTIFACTS_DIR="$(abspath $(SAM_BUILD_DIR)/$*)"

# (after sam-build when both are asked for, even with -j)
check-artifacts: | $(filter sam-build,$(MAKECMDGOALS))
	scripts/check-sam-artifacts.sh "$(SAM_BUILD_DIR)" template.yaml

# template.yaml carries a copy of instance/user-data.sh (CloudFormation cannot read a file
# into UserData): refresh it after editing the script; the check fails on any difference.
sync-user-data:
	scripts/sync-user-data.sh instance/user-data.sh template.yaml

check-user-data:
	scripts/sync-user-data.sh --check instance/user-data.sh template.yaml

clean:
	rm -rf .aws-sam "$(STAMP)" "$(CORE_DIR)/target/sam-layer"
