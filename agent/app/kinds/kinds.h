// The one registry of kinds this build knows: source kinds (collectors/, one folder each) and
// channel kinds (alerting/, one folder each). The plan loader validates a plan against its
// catalog; the runtime builds collectors and channels from it. Adding a kind is its folder plus
// one registration line (collectors/src/registry.cc or alerting/src/channel_registry.cc);
// nothing here or in the runtime names a kind. Built once; thread-safe to share.
#pragma once

#include "backout/alerting/channel.h"
#include "backout/collectors/collector.h"
#include "backout/core/kind_spec.h"

namespace backout::agent {

struct Kinds {
  const collectors::Registry& sources;
  const alerting::ChannelRegistry& channels;
  /// Every kind's spec, for the plan loader.
  const KindCatalog& catalog;
};

/// The built-in kinds.
const Kinds& builtin_kinds();

}  // namespace backout::agent
