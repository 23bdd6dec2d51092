// The one translation unit that compiles Boost.Asio's implementation
// (BOOST_ASIO_SEPARATE_COMPILATION); everything else includes Asio headers as declarations only.
#include <boost/asio/impl/src.hpp>
