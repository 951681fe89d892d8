#!/usr/bin/env bash
# Builds libpq and libcurl for the controller and worker images from Debian's own source
# packages, of exactly the versions installed here (libpq5, libcurl4), with Debian's patches,
# but without what the platform never uses: LDAP and GSSAPI in libpq; every protocol but HTTP
# and HTTPS, and LDAP, GSSAPI, SSH, RTMP, IDN, PSL, HTTP/2, brotli and zstd in libcurl.
# Debian's builds of the two load about twenty more libraries (libldap, gnutls, p11-kit, krb5,
# sasl, libssh2, nghttp2, ...), about 4 MiB resident in each process at idle
# (docs/controller-http.md § Memory). Same sonames and symbol versions as Debian's, so the
# binaries built against Debian's -dev packages load them unchanged.
# Writes them under $1 at their Debian paths (e.g. $1/usr/lib/x86_64-linux-gnu/libpq.so.5.15),
# for the Dockerfile's rootfs stage to lay over Debian's before it collects each image's
# libraries. With no source package reachable, writes nothing and says so: the images then
# carry Debian's libraries, which work the same and cost the memory above.
set -euo pipefail
out=$1
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# deb-src entries for the suites the image already installs from (deb822 or one-line lists)
for f in /etc/apt/sources.list.d/*.sources; do
	[ -e "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" >"/etc/apt/sources.list.d/src-$(basename "$f")"
done
[ -e /etc/apt/sources.list ] && sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/src.list
apt-get update -qq
sources=()
for pkg in libpq5 libcurl4; do
	sources+=("$(dpkg-query -W -f='${source:Package}=${source:Version}' "$pkg")")
done
if ! apt-get source -qq "${sources[@]}" >source.log 2>&1; then
	echo "build-lean-libs: no source for ${sources[*]}; the images keep Debian's libpq and libcurl" >&2
	tail -3 source.log >&2
	exit 0
fi
libdir=$(dirname "$(dpkg -L libpq5 | grep '/libpq\.so\.5\.')")
jobs=$(nproc)

cd "$work"/postgresql-*/
./configure -q --with-openssl --without-ldap --without-gssapi --without-readline --without-zlib \
	--without-icu --disable-nls >/dev/null
make -s -j"$jobs" -C src/interfaces/libpq >/dev/null
install -D -m 644 src/interfaces/libpq/libpq.so.5.* -t "$out$libdir"

cd "$work"/curl-*/
# Debian's OpenSSL flavour names its symbol version CURL_OPENSSL_4 (its 90_gnutls patch,
# applied to the shared sources, renames it for the gnutls flavour): keep Debian's name.
symbol_version() { objdump -T "$1" | awk '$NF == "curl_easy_init" { print $(NF - 1) }'; }
version=$(symbol_version "$libdir/libcurl.so.4")
sed -i "s/^CURL_@CURL_LT_SHLIB_VERSIONED_FLAVOUR@[0-9]*\$/$version/" lib/libcurl.vers.in
./configure -q --enable-versioned-symbols --disable-static --disable-manual --with-openssl \
	--with-zlib --without-ca-bundle --without-ca-path \
	--disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict \
	--disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp \
	--disable-gopher --disable-mqtt --without-gssapi --without-libssh2 --without-libssh \
	--without-librtmp --without-libidn2 --without-libpsl --without-nghttp2 --without-brotli \
	--without-zstd >/dev/null
make -s -j"$jobs" -C lib >/dev/null
built=$(symbol_version lib/.libs/libcurl.so.4)
[ "$built" = "$version" ] || {
	echo "build-lean-libs: libcurl's symbols are $built, Debian's $version" >&2
	exit 1
}
install -D -m 644 lib/.libs/libcurl.so.4.* -t "$out$libdir"
echo "build-lean-libs: ${sources[*]} built into $out$libdir"
