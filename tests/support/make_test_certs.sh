#!/usr/bin/env bash
# make_test_certs.sh OUT_DIR
# Makes the certificates of the TLS tests (unit and integration) with the openssl command, in
# OUT_DIR (created; files already there are replaced). EC P-256 keys: quick to make and to use.
#
#   ca.pem                  the test CA (trusted by the tests through tlsCAFile)
#   other-ca.pem            a second CA that signed nothing the servers present ("unknown CA")
#   server.crt, server.key  the server: SAN DNS:localhost, IP:127.0.0.1, IP:::1; valid for 10 days
#   expired.crt, .key       the same names, valid only in January 2020
#   wrong-host.crt, .key    SAN DNS:wrong.example.com, IP:192.0.2.1 only (neither is loopback)
#   untrusted.crt, .key     the same names as server.crt, signed by other-ca
#   client.pem              a client certificate (CN=test-client) and its key, one file
#   client-encrypted.pem    the same certificate, its key encrypted (AES-256) with the password
#                           in client-encrypted.password
#
# The keys are test keys made anew on each run; none is a secret.
set -euo pipefail
out=${1:?output directory}
mkdir -p "$out"
cd "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() {  # ca NAME CN
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 30 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.pem" 2>/dev/null
}

# leaf NAME CA CN SAN EKU [STARTDATE ENDDATE]: a certificate signed by CA through `openssl ca`,
# which (unlike `openssl x509 -req` in OpenSSL 3.0) can set a validity period in the past.
leaf() {
  local name=$1 signer=$2 cn=$3 san=$4 eku=$5 start=${6:-} end=${7:-}
  key "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$tmp/$name.csr" 2>/dev/null
  mkdir -p "$tmp/$signer.db"
  : >"$tmp/$signer.db/index.txt"
  [[ -f $tmp/$signer.db/serial ]] || openssl rand -hex 16 >"$tmp/$signer.db/serial"
  cat >"$tmp/$name.cnf" <<EOF
[ca]
default_ca = test
[test]
dir = $tmp/$signer.db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $out/$signer.pem
private_key = $out/$signer.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
x509_extensions = leaf
[any]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = $eku
subjectAltName = $san
EOF
  local dates=(-days 10)
  [[ -n $start ]] && dates=(-startdate "$start" -enddate "$end")
  openssl ca -batch -notext -config "$tmp/$name.cnf" "${dates[@]}" -in "$tmp/$name.csr" \
    -out "$name.crt" 2>"$tmp/$name.log" || { cat "$tmp/$name.log" >&2; exit 1; }
}

ca ca "mongoslice test CA"
ca other-ca "mongoslice other CA"
loopback="DNS:localhost,IP:127.0.0.1,IP:::1"
leaf server ca localhost "$loopback" serverAuth
leaf expired ca localhost "$loopback" serverAuth 20200101000000Z 20200131000000Z
leaf wrong-host ca wrong.example.com "DNS:wrong.example.com,IP:192.0.2.1" serverAuth
leaf untrusted other-ca localhost "$loopback" serverAuth
leaf client ca test-client "DNS:test-client" clientAuth
cat client.crt client.key >client.pem
echo "test-key-password" >client-encrypted.password
openssl pkey -in client.key -aes256 -passout file:client-encrypted.password -out "$tmp/enc.key"
cat client.crt "$tmp/enc.key" >client-encrypted.pem
rm -f client.crt client.key
chmod 600 ./*.key ./*.pem
