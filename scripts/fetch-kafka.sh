#!/usr/bin/env bash
# Resolves a Kafka broker (the org.apache.kafka:kafka_2.13 jars and their runtime dependencies) from Maven
# Central into a cache directory, for the integration tests and benchmarks that start a single KRaft node.
# Later runs reuse the cache. Prints the libs directory on stdout.
#
#   scripts/fetch-kafka.sh            # KAFKA_VERSION (default 3.9.1) into $TWINLEDGER_CACHE_DIR (default ~/.cache/twinledger)
#
# Needs Java 17+ (to run the broker) and Maven (mvn) on PATH.
set -euo pipefail

version="${KAFKA_VERSION:-3.9.1}"
cache="${TWINLEDGER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/twinledger}"
dir="$cache/kafka-$version"
libs="$dir/libs"

if [ -f "$dir/.complete" ] && [ -d "$libs" ]; then
  echo "$libs"
  exit 0
fi

command -v mvn >/dev/null 2>&1 || { echo "fetch-kafka: mvn (Maven) is not on PATH" >&2; exit 1; }
command -v java >/dev/null 2>&1 || { echo "fetch-kafka: java is not on PATH" >&2; exit 1; }

mkdir -p "$dir"
rm -rf "$libs" "$dir/.complete"
# slf4j-nop silences the broker's logging (slf4j would otherwise print a binding warning); the tests
# read the broker's state from its ports, not its logs.
cat > "$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>twinledger.test</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM

if ! mvn -q -B -Dstyle.color=never -f "$dir/pom.xml" dependency:copy-dependencies \
  -DoutputDirectory="$libs" -DincludeScope=runtime >"$dir/fetch.log" 2>&1; then
  echo "fetch-kafka: Maven could not resolve org.apache.kafka:kafka_2.13:$version (log: $dir/fetch.log):" >&2
  tail -n 20 "$dir/fetch.log" >&2
  exit 1
fi
ls "$libs"/kafka_2.13-"$version".jar >/dev/null
touch "$dir/.complete"
echo "$libs"
